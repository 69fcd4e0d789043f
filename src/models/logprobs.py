"""The one place a causal LM's logits become log p̂ of each target sequence."""
from __future__ import annotations

import torch
from transformers import PreTrainedModel

from src.objectives.base import sequence_logp


def target_logp(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B,) float32 log p̂(target | prompt), differentiable, from a right-padded `collate` batch."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logits, targets = logits[:, :-1].float(), batch["input_ids"][:, 1:]
    token_logp = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
    return sequence_logp(token_logp, batch["target_mask"][:, 1:])
