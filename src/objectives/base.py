"""What every objective returns, and the one place token log-probs become sequence log-probs."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class ObjectiveOutput:
    """Per-example results of an objective on one micro-batch.

    losses: (B,) differentiable per-example losses; 0 for examples the objective drops.
    logp:   (B,) detached float64 log p̂ of each target sequence.
    factor: (B,) detached float64 confidence factor F (1 for cross-entropy).
    kept:   (B,) bool, False where the threshold rule dropped the example.
    metrics: detached scalars the objective wants logged as train/<name> (e.g. GRPO's mean reward).
    """

    losses: Tensor
    logp: Tensor
    factor: Tensor
    kept: Tensor
    metrics: dict[str, Tensor] = field(default_factory=dict)


def sequence_logp(token_logp: Tensor, mask: Tensor) -> Tensor:
    """log p̂(y|x) = Σ_t log p(y_t | x, y_<t) over target tokens (mask = 1), per row."""
    return (token_logp * mask.to(token_logp.dtype)).sum(dim=-1)


def reduce_losses(losses: Tensor, examples_per_step: int) -> Tensor:
    """Sum over examples / examples in the global batch.

    Every micro-batch divides its summed loss by the *nominal* number of examples per micro-batch;
    Lightning further divides by `accumulate_grad_batches` and DDP averages over ranks, so the
    optimizer step sees Σ_i ℓ_i / (global batch size) regardless of how the batch is split or how
    many examples a threshold dropped (a dropped example contributes 0 without inflating the others).
    """
    return losses.sum() / examples_per_step
