"""`HFSampler` runs any Hugging Face causal LM with its KV cache, batched over prompts *and* samples:
each prompt is prefilled once and its keys/values are shared by its n samples
(src/sampling/shared_prefix.py; HF `generate` with `num_return_sequences` would prefill every copy and
copy the cache at every step), and a prompt whose n samples have all ended leaves the batch. Models
that do not dispatch attention through `AttentionInterface` fall back to a `DynamicCache` repeated
once per sample. Each completion's log p̂ (the model's, untempered) is summed during decoding
(`sample_with_logp`), so nobody needs a second, teacher-forced pass to know it.
"""
from __future__ import annotations

import inspect

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.sampling.config import SamplingConfig
from src.sampling.shared_prefix import (NAME, SharedPrefixState, attention_implementation,
                                        cached_keys_values, supports_shared_prefix)
from src.utils.distributed import all_ranks_agree, parameters_are_sharded


def inverse_cdf_draw(weights: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """One index per row of non-negative `weights` (rows need not sum to 1), index i with probability
    weights[i] / sum: the first i whose cumulative weight exceeds u · sum, for u ~ U[0, 1) given per row.
    Zero-weight entries are never drawn (their cumulative weight equals their predecessor's)."""
    cdf = weights.cumsum(-1)
    target = uniform[:, None] * cdf[:, -1:]
    return torch.searchsorted(cdf, target, right=True).clamp_(max=weights.shape[-1] - 1).squeeze(-1)


def next_tokens(logits: torch.Tensor, temperature: float, top_p: float,
                uniform: torch.Tensor | None = None) -> torch.Tensor:
    """One token per row: argmax at temperature 0, else a draw from the (nucleus-truncated) softmax,
    by inverse CDF (one uniform per row, drawn here unless given; `torch.multinomial` spends one
    exponential per vocabulary entry)."""
    if temperature == 0:
        return logits.argmax(-1)
    if uniform is None:
        uniform = _uniform(len(logits), logits.device)
    logits = logits.float() / temperature
    weights = (logits - logits.amax(-1, keepdim=True)).exp_()  # the softmax, up to its normaliser
    if top_p < 1:
        sorted_w, order = weights.sort(dim=-1, descending=True)
        cumulative = sorted_w.cumsum(-1)
        outside = cumulative - sorted_w > top_p * cumulative[:, -1:]  # keep the smallest set reaching top_p
        return order.gather(-1, inverse_cdf_draw(sorted_w.masked_fill_(outside, 0.0), uniform)[:, None]).squeeze(-1)
    return inverse_cdf_draw(weights, uniform)


def token_logp(logits: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[token] per row, in float64: the model's own log-probability of the drawn token."""
    logits = logits.double()
    return logits.gather(-1, token[:, None]).squeeze(-1) - logits.logsumexp(-1)


def _uniform(rows: int, device: torch.device) -> torch.Tensor:
    return torch.rand(rows, device=device)


class HFSampler:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, config: SamplingConfig):
        self.model, self.tokenizer, self.config = model, tokenizer, config
        # transformers ≥ 5 names the KV cache `cache`; 4.x names it `past_key_values`
        parameters = inspect.signature(model.forward).parameters
        self._cache_kw = "cache" if "cache" in parameters else "past_key_values"
        self._last_logits_only = {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}
        # sharded weights (FSDP, ZeRO-3) make every forward a collective: all ranks decode equally long
        self.lockstep = parameters_are_sharded(model)
        self.shared_prefix = supports_shared_prefix(model)

    @torch.no_grad()
    def sample(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, n: int,
               greedy: bool = False) -> list[list[list[int]]]:
        """`n` completions per left-padded prompt, as token ids cut before EOS: [prompt][sample]."""
        return self.sample_with_logp(prompt_ids, prompt_mask, n, greedy)[0]

    @torch.no_grad()
    def sample_with_logp(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, n: int, greedy: bool = False
                         ) -> tuple[list[list[list[int]]], list[list[float]]]:
        """`sample`'s completions and, for each, the model's log p̂ of the tokens it emitted (EOS included
        when it stopped on one) under the untempered distribution: the teacher-forced log p̂ of the
        completion, read off the decoding's own logits instead of a second forward pass."""
        per_call = max(1, self.config.batch_size // n)
        completions: list[list[list[int]]] = []
        logps: list[list[float]] = []
        for start in range(0, len(prompt_ids), per_call):
            ids, mask = prompt_ids[start:start + per_call], prompt_mask[start:start + per_call]
            seqs, seq_logp = self._decode(ids, mask, n, 0.0 if greedy else self.config.temperature)
            seqs, seq_logp = seqs.tolist(), seq_logp.tolist()
            completions += [[self._cut(s) for s in seqs[p * n:(p + 1) * n]] for p in range(len(ids))]
            logps += [seq_logp[p * n:(p + 1) * n] for p in range(len(ids))]
        return completions, logps

    def _decode(self, ids: torch.Tensor, mask: torch.Tensor, n: int,
                temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
        """((prompts·n, max_new_tokens) sampled ids, rows past their EOS holding EOS; (prompts·n,) float64
        log p̂ of each row's tokens up to and including its EOS)."""
        eos, max_new = self.tokenizer.eos_token_id, self.config.max_new_tokens
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                         **self._last_logits_only)
        cache = getattr(out, self._cache_kw)
        if self.shared_prefix:
            state = SharedPrefixState(cached_keys_values(cache), mask, n, max_new)
            step_inputs = {"use_cache": False, "shared_prefix": state,
                           "attention_mask": state.prefix_bias}  # 4-D: HF's mask building is skipped
        else:
            cache.batch_repeat_interleave(n)
            mask = mask.repeat_interleave(n, dim=0)
        logits = out.logits[:, -1].repeat_interleave(n, dim=0)
        del out
        position = positions[:, -1:].repeat_interleave(n, dim=0)
        rows = len(position)
        tokens = torch.full((rows, max_new), eos, dtype=torch.long, device=ids.device)
        logp = torch.zeros(rows, dtype=torch.float64, device=ids.device)
        live = torch.arange(rows, device=ids.device)  # the rows still decoding (all, off the shared-prefix path)
        done = torch.zeros(rows, dtype=torch.bool, device=ids.device)
        for step in range(max_new):
            # one uniform per row of the batch, live or not: the draws do not depend on which rows finished
            uniform = _uniform(rows, ids.device)[live] if temperature > 0 else None
            token = next_tokens(logits, temperature, self.config.top_p, uniform).masked_fill(done, eos)
            tokens[live, step] = token
            logp[live] += token_logp(logits, token).masked_fill_(done, 0.0)
            done |= token == eos
            finished = all_ranks_agree(bool(done.all())) if self.lockstep else done.all()
            if finished or step + 1 == max_new:
                break
            position = position + 1
            if self.shared_prefix:
                prompts_left = ~done.view(-1, n).all(1)
                if not self.lockstep and not prompts_left.all():  # drop prompts whose n samples all ended
                    state.keep(prompts_left)
                    step_inputs["attention_mask"] = state.prefix_bias
                    kept = prompts_left.repeat_interleave(n)
                    live, token, position, done = live[kept], token[kept], position[kept], done[kept]
                with attention_implementation(self.model, NAME):
                    out = self.model(input_ids=token[:, None], position_ids=position,
                                     **self._last_logits_only, **step_inputs)
            else:
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
                out = self.model(input_ids=token[:, None], attention_mask=mask, position_ids=position,
                                 use_cache=True, **self._last_logits_only, **{self._cache_kw: cache})
                cache = getattr(out, self._cache_kw)
            logits = out.logits[:, -1]
        return tokens, logp

    def _cut(self, seq: list[int]) -> list[int]:
        eos = self.tokenizer.eos_token_id
        return seq[:seq.index(eos)] if eos in seq else seq

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)
