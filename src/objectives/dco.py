"""Direct Coverage Optimization: ℓ_n = −log(1 − (1 − p̂)^n), with the confidence threshold rule."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .coverage import confidence_factor, dco_loss


def check_budget(name: str, n: float) -> float:
    """A sample budget is a finite number ≥ 1."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 1:
        raise ValueError(f"{name} must be a finite number >= 1 (the pass@N sample budget), got {n!r}")
    return float(n)


def check_threshold(threshold: float) -> float:
    """F lies in [0, 1], so a threshold outside [0, 1) keeps everything or nothing."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a number in [0, 1) (drop examples with F <= threshold), got {threshold!r}")
    return float(threshold)


def thresholded(logp: Tensor, losses: Tensor, detached_factor: Tensor, threshold: float) -> ObjectiveOutput:
    """Zero the loss (and its gradient) of examples whose confidence factor is ≤ threshold."""
    kept = detached_factor > threshold
    return ObjectiveOutput(
        losses=torch.where(kept, losses, 0.0),
        logp=logp.detach().to(torch.float64),
        factor=detached_factor,
        kept=kept,
    )


class DCO:
    """ℓ_n per sequence; examples already confident enough (F(n, p̂) ≤ threshold) are dropped."""

    name = "dco"

    def __init__(self, n: float = 256, threshold: float = 0.0):
        self.n = check_budget("n", n)
        self.threshold = check_threshold(threshold)

    def keeps(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> Tensor:
        return confidence_factor(logp.detach(), self.n) > self.threshold

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> ObjectiveOutput:
        detached_factor = confidence_factor(logp.detach(), self.n)
        return thresholded(logp, dco_loss(logp, self.n), detached_factor, self.threshold)
