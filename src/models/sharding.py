"""The unit of sharding and recomputation for large models: one transformer block (decoder layer).

`trainer=fsdp` wraps each block as its own FSDP unit (its weights are gathered only while it runs)
and recomputes each block's activations in the backward pass (activation checkpointing). The set
holds the block class of every model family the configs use; a class a model lacks never matches.
"""
from __future__ import annotations

import importlib

BLOCKS = {  # transformers family → its decoder-layer class
    "llama": "LlamaDecoderLayer",     # Llama-3 (the paper's MATH model) and model=tiny
    "qwen2": "Qwen2DecoderLayer",     # Qwen2.5-Math (the theorem-proving model)
    "mistral": "MistralDecoderLayer",
    "gemma": "GemmaDecoderLayer",
}


def decoder_layers() -> set[type]:
    return {getattr(importlib.import_module(f"transformers.models.{family}.modeling_{family}"), name)
            for family, name in BLOCKS.items()}
