"""Causal language models: a small Llama built from a config, or a hub checkpoint."""
from __future__ import annotations

from typing import Any, Mapping

import torch
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedModel, PreTrainedTokenizerBase

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def build_model(tokenizer: PreTrainedTokenizerBase, pretrained: str | None = None,
                architecture: Mapping[str, Any] | None = None, dtype: str = "float32",
                **hub_kwargs: Any) -> PreTrainedModel:
    """Load `pretrained` from the hub, or build `architecture` (a transformers config) from scratch."""
    if dtype not in DTYPES:
        raise ValueError(f"model.dtype={dtype!r}; accepted: {sorted(DTYPES)}")
    if pretrained:
        # from_pretrained returns eval mode; training mode is what a model is built for here
        return AutoModelForCausalLM.from_pretrained(pretrained, dtype=DTYPES[dtype], **hub_kwargs).train()
    if not architecture:
        raise ValueError("model: set either `pretrained` (a hub id) or `architecture` (a config)")
    arch = dict(architecture)
    config = AutoConfig.for_model(
        arch.pop("model_type", "llama"),
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **arch,
    )
    return AutoModelForCausalLM.from_config(config, dtype=DTYPES[dtype])
