"""Sampling backends behind one small interface: left-padded prompts in, completions' token ids out.

`make_sampler(model, tokenizer, config).sample(prompt_ids, prompt_mask, n)` returns `n` completions
per prompt; evaluation, proof search and on-policy objectives never see which backend ran.
"""
from __future__ import annotations

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.sampling.config import SamplingConfig
from src.sampling.hf import HFSampler

__all__ = ["HFSampler", "SamplingConfig", "make_sampler"]


def make_sampler(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, config: SamplingConfig):
    """The backend `config.backend` names, for the given (current) model weights."""
    if config.backend == "vllm":
        from src.sampling.vllm import VLLMSampler  # optional extra: pip install -e .[vllm]
        return VLLMSampler(model, tokenizer, config)
    return HFSampler(model, tokenizer, config)
