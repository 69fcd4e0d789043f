"""Answer-class coverage: a lower bound on P(correct answer) that any N can use (issue #14, estimate c).

Exact coverage of the *reference string* (estimate b) counts one correct spelling. Every distinct
completion the evaluation sampled is an event of its own: "the sampler outputs exactly these tokens"
(then EOS, when it stopped on one; the truncated text itself when it ran out of tokens). These events
are disjoint, so the sum of their teacher-forced p̂ over the distinct completions that grade as correct,
plus the reference's (when no sample spelled it), is a probability of a correct output that never
exceeds the true one:

    p̂_ref ≤ p̂_class = p̂_ref + Σ_{distinct correct samples ≠ ref} p̂(sample) ≤ P(correct),

and 1 − (1 − p̂_class)^N ≥ 1 − (1 − p̂_ref)^N is a lower bound on pass@N for any N.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from src.data.tokenized import Example, collate
from src.models.logprobs import target_logp


def completion_target(ids: Sequence[int], eos: int, max_new_tokens: int) -> list[int]:
    """The tokens the sampler emitted: EOS is appended only when it was produced, i.e. when decoding
    stopped before `max_new_tokens` (samplers return completions cut before EOS)."""
    ids = list(ids)
    return ids + [eos] if len(ids) < max_new_tokens else ids


def distinct_completions(completions: Sequence[Sequence[int]], eos: int, max_new_tokens: int,
                         reference: Sequence[int]) -> tuple[list[list[int]], list[int]]:
    """(the distinct emitted token sequences other than the reference, in first-seen order;
    for each completion, its position in that list or −1 when it is the reference)."""
    reference, seen, order = tuple(reference), {}, []
    for ids in completions:
        target = tuple(completion_target(ids, eos, max_new_tokens))
        if target == reference:
            order.append(-1)
            continue
        order.append(seen.setdefault(target, len(seen)))
    return [list(t) for t in seen], order


def class_logp(ref_logp: float, correct_logps: Sequence[float]) -> float:
    """log p̂_class = log(p̂_ref + Σ p̂_correct), clipped at 0 against rounding."""
    terms = [ref_logp, *correct_logps]
    top = max(terms)
    if top == -math.inf:
        return -math.inf
    return min(0.0, top + math.log(sum(math.exp(t - top) for t in terms)))


@torch.no_grad()
def score_targets(module, prompts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
                  batch_size: int) -> list[float]:
    """Teacher-forced log p̂(target | prompt) of each pair, `batch_size` sequences per forward pass."""
    pad, logps = module.tokenizer.pad_token_id, []
    for start in range(0, len(targets), batch_size):
        chunk = [Example(i, list(p), list(t)) for i, (p, t) in
                 enumerate(zip(prompts[start:start + batch_size], targets[start:start + batch_size]))]
        batch = module.transfer_batch_to_device(collate(chunk, pad), module.device, 0)
        logps += target_logp(module.model, batch).double().tolist()
    return logps
