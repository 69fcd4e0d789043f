"""Unlikeliness reward (He, Fried & Welleck 2025, *Rewarding the Unlikely: Lifting GRPO Beyond
Distribution Sharpening*, arXiv 2506.02355), for proofs sampled from the current tactic model.

GRPO reinforces the proofs the model already finds likely (its "rank bias"), which sharpens the
distribution and lowers pass@N at large N. The fix: rank a theorem's G sampled attempts by their
likelihood under the sampling policy, rank(y_i) = 0 for the least likely … G − 1 for the most likely,
and lower the reward of the likely ones before GRPO's group normalisation:

    r̃_i = r_i · (1 − β_rank · rank(y_i) / G)
    A_i = (r̃_i − mean_j r̃_j) / (std_j r̃_j + δ)                           (GRPO, src/objectives/grpo.py)

as in the authors' release (AndreHe02/rewarding-unlikely-release, `_compute_advantages`, where the
likelihood is the mean token log-prob of the sampled proof and the ranks run over all G samples).
Here an attempt is a sequence of tactic steps (one row per step, src/rollouts/proof_groups.py); its
likelihood is the mean log-prob of its tactic tokens, and its advantage multiplies the log-prob of
every step: −A_i Σ_t log p̂(tactic_t | state_t) / (tokens of attempt i) / G, i.e. GRPO's per-token
mean on policy (ratio 1, no clipping needed; no KL term).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput
from .grpo import group_advantages


def likelihood_ranks(logp: Tensor) -> Tensor:
    """(B, G) → rank of each sample in its group by log-likelihood, 0 = least likely (ties: first first)."""
    return torch.argsort(torch.argsort(logp, dim=1, stable=True), dim=1, stable=True)


def unlikeliness_rewards(rewards: Tensor, logp: Tensor, beta: float) -> Tensor:
    """r · (1 − β · rank / G): a correct sample keeps reward 1 if it is its group's least likely."""
    if rewards.shape != logp.shape or rewards.ndim != 2:
        raise ValueError(f"rewards and logp must both be (prompts, G), got {tuple(rewards.shape)} and {tuple(logp.shape)}")
    group_size = rewards.shape[1]
    return rewards.to(torch.float64) * (1 - beta * likelihood_ranks(logp).to(torch.float64) / group_size)


def attempt_sums(values: Tensor, attempt: Tensor, attempts: int) -> Tensor:
    """(S,) per-step values → (attempts,) sums over each attempt's steps."""
    return values.new_zeros(attempts).index_add(0, attempt, values)


class UnlikelinessReward:
    """GRPO with the unlikeliness reward on sampled proof attempts.

    batch (from src.rollouts.proof_groups.ProofGroupRollout): one row per step of every attempt, with
    attempt (S,) the attempt each step belongs to (prompt-major: theorem b's attempts are b·G … b·G + G − 1),
    rewards (B, G) = 1 for a proof the checker accepted, and target_mask (tactic tokens of each step).
    """

    name = "unlikeliness"

    def __init__(self, beta: float = 0.25):
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta <= 1:
            raise ValueError(f"objective.beta must be in [0, 1] (β_rank; 0 is plain GRPO), got {beta!r}")
        self.beta = float(beta)

    def __call__(self, logp: Tensor, batch: Mapping[str, Tensor]) -> ObjectiveOutput:
        rewards, attempt = batch["rewards"], batch["attempt"].to(logp.device)
        prompts, group_size = rewards.shape
        logp = logp.to(torch.float64)
        tokens = attempt_sums(batch["target_mask"].sum(1).to(logp), attempt, prompts * group_size).clamp(min=1)
        attempt_logp = (attempt_sums(logp.detach(), attempt, prompts * group_size) / tokens).view(prompts, group_size)
        shaped = unlikeliness_rewards(rewards.to(logp.device), attempt_logp, self.beta)
        advantages = group_advantages(shaped).reshape(-1)
        losses = -advantages[attempt] * logp / tokens[attempt] / group_size
        return ObjectiveOutput(
            losses=losses,
            logp=logp.detach(),
            factor=torch.ones_like(losses.detach()),
            kept=torch.ones_like(losses, dtype=torch.bool),
            metrics={"reward": rewards.to(torch.float64).mean(), "shaped_reward": shaped.mean()},
        )
