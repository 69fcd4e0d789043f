"""The one place a causal LM's logits become log-probabilities of the target tokens."""
from __future__ import annotations

import torch
from transformers import PreTrainedModel

from src.objectives.base import sequence_logp


def token_logp(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, T − 1) float32 log p(input_ids[:, t + 1] | input_ids[:, ≤ t]), differentiable, from a
    right-padded `collate` batch; the target tokens are where batch["target_mask"][:, 1:] is 1."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logits, targets = logits[:, :-1].float(), batch["input_ids"][:, 1:]
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)


def target_logp(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B,) float32 log p̂(target | prompt), differentiable, from a right-padded `collate` batch."""
    return sequence_logp(token_logp(model, batch), batch["target_mask"][:, 1:])
