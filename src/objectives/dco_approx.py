"""DCO_a: DCO for chain of thought, where p̂ of a *correct answer* has to be estimated by sampling.

With reasoning traces, p̂(answer | x) sums over every trace that ends in the right answer, so it cannot
be computed. DCO_a estimates it from K samples of the current model (p̂_a = fraction whose final answer
is right, drawn by `src.rollouts.pass_rate`) and weights cross-entropy on the reference solution by the
confidence factor: ℓ = F(N, p̂_a) · (−log p̂(solution | x)), F detached (PAPER.md §2). Examples the
model already solves often (p̂_a ≥ threshold) are dropped; the refill sampler tops the batch up.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .dco import ThresholdRule, check_budget
from .modes import Factor, Reduction, reduce

ESTIMATE_KEY = "logp_estimate"  # batch[ESTIMATE_KEY]: (B,) log p̂_a, −inf where no sample was right


class DCOApprox(ThresholdRule):
    """F(n, p̂_a) × CE on the reference solution; keeps examples with p̂_a < threshold.

    The estimate arrives in the batch, so this class is pure math: it never samples or grades.
    The reference code (refine/training/train.py:593-599): per-token-mean CE × f(p̂_a, N), keep
    p̂_a < --threshold (filter_samples.py:514, default 0.1 at arg_parser.py:273) — here
    reduction=token_mean, factor=reference, threshold=0.1.
    """

    name = "dco_approx"

    def __init__(self, n: float = 64, threshold: float = 0.1, reduction: str = "sum", factor: str = "exact"):
        self.n = check_budget("n", n)
        self.reduction, self.factor = Reduction.parse(reduction), Factor.parse(factor)
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1] (keep examples with p̂_a < threshold), got {threshold!r}")
        self.threshold = float(threshold)

    def keeps(self, logp_estimate: Tensor, batch: Mapping[str, Tensor] | None = None) -> Tensor:
        """The refill rule, on the log p̂_a the rollout's scorer returned."""
        return logp_estimate.detach().to(torch.float64).exp() < self.threshold

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor]) -> ObjectiveOutput:
        if ESTIMATE_KEY not in batch:
            raise KeyError(f'DCOApprox needs batch["{ESTIMATE_KEY}"] (log p̂_a); it is filled by '
                           "src.rollouts.pass_rate.PassRateRollout, which objective=dco_approx configures")
        logp_estimate = batch[ESTIMATE_KEY].to(device=logp.device, dtype=torch.float64)
        detached_factor = self.factor(logp_estimate, self.n)
        kept = self.keeps(logp_estimate) if self.loss_applies_threshold else torch.ones_like(detached_factor, dtype=torch.bool)
        losses = torch.where(kept, reduce(detached_factor * -logp.to(torch.float64), batch, self.reduction), 0.0)
        return ObjectiveOutput(
            losses=losses,
            logp=logp.detach().to(torch.float64),
            factor=detached_factor,
            kept=kept,
            metrics={"pass_rate": logp_estimate.exp().mean()},
        )
