"""A causal LM as a `TacticPolicy` (src/search/tree_search.py): k sampled tactics per proof state.

The prompts are the training prompts (`format_tactic`, BOS, the same left truncation), so the
model sees at search time exactly what it was fine-tuned on. Tactics are drawn by the shared
sampler (`make_sampler`: one prefill per state, k samples from its KV cache, batched over states);
each distinct tactic of a state is then scored once by teacher forcing: its log-prob is
log p̂(tactic + EOS | state), the quantity the objectives train, whatever the sampling temperature.
"""
from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.data.lean import format_tactic
from src.data.tokenized import Example, collate, tokenize_pairs
from src.sampling import SamplingConfig, make_sampler
from src.models.logprobs import target_logp


class HFTacticPolicy:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, sampling: SamplingConfig,
                 max_prompt_tokens: int, score_batch_size: int = 256):
        self.model, self.tokenizer, self.max_prompt_tokens = model, tokenizer, max_prompt_tokens
        self.sampler = make_sampler(model, tokenizer, sampling)
        self.score_batch_size = score_batch_size

    @torch.no_grad()
    def sample(self, states: list[str], k: int) -> list[list[tuple[str, float]]]:
        """For each state, k (tactic, log p̂) pairs; duplicates are kept, as a sampler returns them."""
        if not states:
            return []
        prompts = [e.prompt_ids for e in tokenize_pairs([(format_tactic(s), "") for s in states], self.tokenizer,
                                                         self.max_prompt_tokens, 1)]
        batch = self._collate([(p, [self.tokenizer.eos_token_id]) for p in prompts])
        completions = self.sampler.sample(batch["prompt_ids"], batch["prompt_mask"], k)
        distinct = list(dict.fromkeys((s, tuple(ids)) for s, samples in enumerate(completions) for ids in samples))
        logp = dict(zip(distinct, self._score([(prompts[s], list(ids)) for s, ids in distinct])))
        return [[(self.sampler.decode(ids).strip(), logp[s, tuple(ids)]) for ids in samples]
                for s, samples in enumerate(completions)]

    def _score(self, pairs: list[tuple[list[int], list[int]]]) -> list[float]:
        """log p̂(completion + EOS | prompt) of each (prompt ids, completion ids) pair."""
        eos, scores = self.tokenizer.eos_token_id, []
        for start in range(0, len(pairs), self.score_batch_size):
            chunk = pairs[start:start + self.score_batch_size]
            scores += target_logp(self.model, self._collate([(p, c + [eos]) for p, c in chunk])).double().tolist()
        return scores

    def _collate(self, pairs: list[tuple[list[int], list[int]]]) -> dict:
        batch = collate([Example(i, p, t) for i, (p, t) in enumerate(pairs)], self.tokenizer.pad_token_id)
        device = self.model.device
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
