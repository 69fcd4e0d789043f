"""Cross-entropy on whole target sequences: ℓ = −log p̂(y|x), the baseline every DCO variant reduces to."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput


class CrossEntropy:
    """ℓ_CE = −log p̂; keeps every example (F = 1)."""

    name = "cross_entropy"

    def keeps(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> Tensor:
        return torch.ones_like(logp, dtype=torch.bool)

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> ObjectiveOutput:
        logp = logp.to(torch.float64)
        return ObjectiveOutput(
            losses=-logp,
            logp=logp.detach(),
            factor=torch.ones_like(logp.detach()),
            kept=self.keeps(logp),
        )
