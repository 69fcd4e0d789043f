"""Direct Coverage Optimization: ℓ_n = −log(1 − (1 − p̂)^n), with the confidence threshold rule."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .coverage import dco_loss
from .modes import Factor, Reduction, reduce


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


def thresholded(logp: Tensor, losses: Tensor, detached_factor: Tensor, threshold: float | None) -> ObjectiveOutput:
    """Zero the loss (and its gradient) of examples whose confidence factor is ≤ threshold
    (threshold None: the sampler already applied the rule, every example is kept)."""
    kept = detached_factor > threshold if threshold is not None else torch.ones_like(detached_factor, dtype=torch.bool)
    return ObjectiveOutput(
        losses=torch.where(kept, losses, 0.0),
        logp=logp.detach().to(torch.float64),
        factor=detached_factor,
        kept=kept,
    )


class ThresholdRule:
    """The ε-rule is applied once: by the refill sampler when it is active (it drops candidates and
    refills, as refine/training/filter_samples.py:602 + train.py:786-799 do), else here in the loss
    (the example is dropped, nothing replaces it). The trainer glue calls
    `leave_threshold_to_sampler()` when the sampler decides (src.run.callbacks.RefillCallback)."""

    threshold: float
    loss_applies_threshold: bool = True

    def leave_threshold_to_sampler(self) -> None:
        self.loss_applies_threshold = False

    @property
    def loss_threshold(self) -> float | None:
        return self.threshold if self.loss_applies_threshold else None


class DCO(ThresholdRule):
    """ℓ_n per sequence; examples already confident enough (F(n, p̂) ≤ threshold) are dropped.

    factor=exact: ℓ_n = −log(1 − (1 − p̂)^n), whose gradient is F × the CE gradient (the paper);
    factor=reference: F_ref(n, p̂) × (−log p̂), F_ref detached (refine/training/NCO.py:146), the same
    gradient with the reference code's factor. reduction=token_mean divides either by the target's
    token count (NCO.py:143).
    """

    name = "dco"

    def __init__(self, n: float = 256, threshold: float = 0.0, reduction: str = "sum", factor: str = "exact"):
        self.n = check_budget("n", n)
        self.threshold = check_threshold(threshold)
        self.reduction, self.factor = Reduction.parse(reduction), Factor.parse(factor)

    def keeps(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> Tensor:
        return self.factor(logp.detach(), self.n) > self.threshold

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> ObjectiveOutput:
        detached_factor = self.factor(logp.detach(), self.n)
        if self.factor is Factor.EXACT:
            losses = dco_loss(logp, self.n)
        else:
            losses = detached_factor * -logp.to(torch.float64)
        return thresholded(logp, reduce(losses, batch, self.reduction), detached_factor, self.loss_threshold)
