"""Uniform allocation (UA): DCO_step with the search budget shared evenly over a proof's steps.

Ousherovitch & Tewari, *Direct Optimization of Generators for Search in Automated Theorem Proving*:
a proof of L steps found within a budget of N tactic samples gets about N/L of them per step, so
each step is trained with DCO_step at N_eff = N/L, i.e. its cross-entropy gradient is weighted by

    F(N/L, p̂_t),   ℓ_t = −log(1 − (1 − p̂(tactic_t | state_t))^(N/L))

(PAPER.md §2 for F). Short proofs get a large per-step budget (confidence is capped early), long
ones a small one (close to CE). Where N/L < 1 the step budget is 1: plain CE. The formula is the one
issue #17 states; the paper itself was not reachable from this project's sources.
L is the batch's `proof_length` where it has one (the proof data module's batches: the refill rule
may have dropped some of a proof's steps), else counted among the batch's steps of each proof id.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .coverage import confidence_factor, dco_loss
from .dco import ThresholdRule, check_budget, check_threshold, thresholded


def proof_lengths(proof_ids: Tensor) -> Tensor:
    """(S,) number of steps in the batch that share each step's proof id."""
    _, index, counts = torch.unique(proof_ids, return_inverse=True, return_counts=True)
    return counts[index]


def step_budgets(proof_ids: Tensor, n: float, lengths: Tensor | None = None) -> Tensor:
    """(S,) float64 N_eff = max(N / L, 1) of each step; L = `lengths`, or counted from proof_ids."""
    lengths = proof_lengths(proof_ids) if lengths is None else lengths
    return (n / lengths.to(torch.float64)).clamp(min=1.0)


def uniform_allocation_losses(step_logp: Tensor, proof_ids: Tensor, n: float, lengths: Tensor | None = None) -> Tensor:
    """DCO_step on each step with N_eff = N / L of its proof."""
    return dco_loss(step_logp, step_budgets(proof_ids, n, lengths).to(step_logp.device))


class UniformAllocation(ThresholdRule):
    """DCO_step at N_eff = N/L per step; needs batch["proof_id"]; drops steps with F ≤ threshold."""

    name = "uniform_allocation"

    def __init__(self, n: float = 64, threshold: float = 0.0):
        self.n = check_budget("n", n)
        self.threshold = check_threshold(threshold)

    def factor(self, logp: Tensor, batch: Mapping[str, Tensor] | None) -> Tensor:
        if batch is None or "proof_id" not in batch:
            raise KeyError('UniformAllocation needs batch["proof_id"]: the proof each step belongs to')
        budgets = step_budgets(batch["proof_id"], self.n, batch.get("proof_length"))
        return confidence_factor(logp.detach(), budgets.to(logp.device))

    def keeps(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> Tensor:
        return self.factor(logp, batch) > self.threshold

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> ObjectiveOutput:
        detached_factor = self.factor(logp, batch)
        losses = uniform_allocation_losses(logp, batch["proof_id"], self.n, batch.get("proof_length"))
        return thresholded(logp, losses, detached_factor, self.loss_threshold)
