"""`HFSampler` runs any Hugging Face causal LM with its KV cache, batched over prompts *and* samples:
each prompt is prefilled once and its cache is shared by its n samples (HF `generate` with
`num_return_sequences` would prefill every copy).
"""
from __future__ import annotations

import inspect

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.sampling.config import SamplingConfig
from src.utils.distributed import all_ranks_agree, parameters_are_sharded


def next_tokens(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """One token per row: argmax at temperature 0, else a draw from the (nucleus-truncated) softmax."""
    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(-1) - sorted_probs > top_p  # keep the smallest set reaching top_p
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs.masked_fill(outside, 0.0))
    return torch.multinomial(probs, 1).squeeze(-1)


class HFSampler:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, config: SamplingConfig):
        self.model, self.tokenizer, self.config = model, tokenizer, config
        # transformers ≥ 5 names the KV cache `cache`; 4.x names it `past_key_values`
        self._cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        # sharded weights (FSDP, ZeRO-3) make every forward a collective: all ranks decode equally long
        self.lockstep = parameters_are_sharded(model)

    @torch.no_grad()
    def sample(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, n: int,
               greedy: bool = False) -> list[list[list[int]]]:
        """`n` completions per left-padded prompt, as token ids cut before EOS: [prompt][sample]."""
        per_call = max(1, self.config.batch_size // n)
        completions: list[list[list[int]]] = []
        for start in range(0, len(prompt_ids), per_call):
            ids, mask = prompt_ids[start:start + per_call], prompt_mask[start:start + per_call]
            seqs = self._decode(ids, mask, n, 0.0 if greedy else self.config.temperature).tolist()
            completions += [[self._cut(s) for s in seqs[p * n:(p + 1) * n]] for p in range(len(ids))]
        return completions

    def _decode(self, ids: torch.Tensor, mask: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        """(prompts·n, max_new_tokens) sampled ids; rows past their EOS hold EOS."""
        eos = self.tokenizer.eos_token_id
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        cache = getattr(out, self._cache_kw)
        cache.batch_repeat_interleave(n)
        mask = mask.repeat_interleave(n, dim=0)
        position = positions[:, -1:].repeat_interleave(n, dim=0)
        logits = out.logits[:, -1].repeat_interleave(n, dim=0)
        tokens, done = [], torch.zeros(len(mask), dtype=torch.bool, device=ids.device)
        for step in range(self.config.max_new_tokens):
            token = next_tokens(logits, temperature, self.config.top_p).masked_fill(done, eos)
            tokens.append(token)
            done |= token == eos
            finished = all_ranks_agree(bool(done.all())) if self.lockstep else done.all()
            if finished or step + 1 == self.config.max_new_tokens:
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            position = position + 1
            out = self.model(input_ids=token[:, None], attention_mask=mask, position_ids=position,
                             use_cache=True, **{self._cache_kw: cache})
            cache, logits = getattr(out, self._cache_kw), out.logits[:, -1]
        return torch.stack(tokens, dim=1)

    def _cut(self, seq: list[int]) -> list[int]:
        eos = self.tokenizer.eos_token_id
        return seq[:seq.index(eos)] if eos in seq else seq

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)
