"""DCO for proofs made of tactic steps: per-step DCO_step and the naive whole-proof DCO.

Each example is one step (state → tactic) with log p̂_i = log p̂(tactic_i | state_i).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .coverage import confidence_factor, dco_loss
from .dco import DCO, ThresholdRule, check_budget, check_threshold, thresholded
from .modes import Factor, Reduction, reduce


def dco_step_losses(step_logp: Tensor, n_eff: float) -> Tensor:
    """DCO_step: −log(1 − (1 − p̂_i)^N_eff) for each step; a k-step proof needs roughly N ≳ N_eff^k."""
    return dco_loss(step_logp, n_eff)


def proof_logp(step_logp: Tensor, proof_ids: Tensor) -> Tensor:
    """log Π p̂_j over the steps j in the batch that share step i's proof id, for every step i."""
    unique_ids, proof_index = torch.unique(proof_ids, return_inverse=True)
    step_logp = step_logp.to(torch.float64)
    totals = step_logp.new_zeros(len(unique_ids)).index_add(0, proof_index, step_logp)
    return totals[proof_index]


def whole_proof_dco_losses(step_logp: Tensor, proof_ids: Tensor, n: float,
                           factor: Factor = Factor.EXACT) -> Tensor:
    """Naive proof DCO: each step's CE weighted by the detached F(n, Π p̂) of its whole proof
    (the reference code: filter_samples.py:687-691 computes F of the whole proof, train.py:606-609
    weighs each step's CE by it)."""
    detached_factor = factor(proof_logp(step_logp.detach(), proof_ids), n)
    return detached_factor * -step_logp.to(torch.float64)


class DCOStep(DCO):
    """DCO_step: DCO on every tactic step with the per-step budget n_eff (dco_step_losses); drops steps
    with F(n_eff, p̂_i) ≤ threshold."""

    name = "dco_step"

    def __init__(self, n_eff: float, threshold: float = 0.0, reduction: str = "sum", factor: str = "exact"):
        super().__init__(check_budget("n_eff", n_eff), threshold, reduction, factor)

    @property
    def n_eff(self) -> float:
        return self.n


class DCOProof(ThresholdRule):
    """Naive whole-proof DCO; needs batch["proof_id"] and drops steps whose proof has F ≤ threshold.

    Steps of one proof must share a micro-batch: Π p̂ only runs over the steps present.
    """

    name = "dco_proof"

    def __init__(self, n: float, threshold: float = 0.0, reduction: str = "sum", factor: str = "exact"):
        self.n = check_budget("n", n)
        self.threshold = check_threshold(threshold)
        self.reduction, self.factor = Reduction.parse(reduction), Factor.parse(factor)

    def keeps(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> Tensor:
        """Given batch["proof_id"], logp are steps; without it, logp are whole proofs."""
        whole = logp.detach() if batch is None else proof_logp(logp.detach(), batch["proof_id"])
        return self.factor(whole, self.n) > self.threshold

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor] | None = None) -> ObjectiveOutput:
        if batch is None or "proof_id" not in batch:
            raise KeyError('DCOProof needs batch["proof_id"]: the proof each step belongs to')
        proof_ids = batch["proof_id"]
        detached_factor = self.factor(proof_logp(logp.detach(), proof_ids), self.n)
        losses = reduce(whole_proof_dco_losses(logp, proof_ids, self.n, self.factor), batch, self.reduction)
        return thresholded(logp, losses, detached_factor, self.loss_threshold)
