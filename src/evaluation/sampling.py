"""Sampling backends behind one small interface: prompts in, decoded completions out.

`HFSampler` is batched, KV-cached Hugging Face generation (CPU or GPU). Other backends (vLLM) keep
the same `sample` signature so evaluation and on-policy objectives never see the difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass
class SamplingConfig:
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 16
    batch_size: int = 256  # sequences generated per forward (prompts × samples)

    def __post_init__(self):
        if self.temperature < 0:
            raise ValueError(f"sampling.temperature={self.temperature}; must be ≥ 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"sampling.top_p={self.top_p}; must be in (0, 1]")


class HFSampler:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, config: SamplingConfig):
        self.model, self.tokenizer, self.config = model, tokenizer, config

    @torch.no_grad()
    def sample(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, n: int,
               greedy: bool = False) -> list[list[list[int]]]:
        """`n` completions per left-padded prompt, as token ids cut before EOS: [prompt][sample]."""
        per_call = max(1, self.config.batch_size // n)
        completions: list[list[list[int]]] = []
        for start in range(0, len(prompt_ids), per_call):
            ids, mask = prompt_ids[start:start + per_call], prompt_mask[start:start + per_call]
            out = self.model.generate(
                input_ids=ids, attention_mask=mask, max_new_tokens=self.config.max_new_tokens,
                do_sample=not greedy, temperature=None if greedy else self.config.temperature,
                top_p=None if greedy else self.config.top_p, top_k=None if greedy else 0,
                num_return_sequences=n, pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )[:, ids.shape[1]:].tolist()
            completions += [[self._cut(seq) for seq in out[p * n:(p + 1) * n]] for p in range(len(ids))]
        return completions

    def _cut(self, seq: list[int]) -> list[int]:
        eos = self.tokenizer.eos_token_id
        return seq[:seq.index(eos)] if eos in seq else seq

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)
