"""Cross-entropy on whole target sequences: ℓ = −log p̂(y|x), the baseline every DCO variant reduces to."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .modes import Reduction, reduce


class CrossEntropy:
    """ℓ_CE = −log p̂ (F = 1), or −log p̂ / T with reduction=token_mean (the reference code's CE,
    refine/training/NCO.py:143 with N = 1); no threshold rule, so every example is trained on."""

    name = "cross_entropy"

    def __init__(self, reduction: str = "sum"):
        self.reduction = Reduction.parse(reduction)

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> ObjectiveOutput:
        logp = logp.to(torch.float64)
        return ObjectiveOutput(
            losses=reduce(-logp, batch, self.reduction),
            logp=logp.detach(),
            factor=torch.ones_like(logp.detach()),
            kept=torch.ones_like(logp.detach(), dtype=torch.bool),
        )
