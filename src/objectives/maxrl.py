"""MaxRL-style normalisation (Tajwar et al. 2026, Maximum Likelihood Reinforcement Learning, arXiv 2602.02710).

log p = −Σ_{k≥1} (1 − p)^k / k, so ∇ log p = Σ_{k≥1} (1/k) ∇ pass@k. MaxRL truncates the series at the
number of samples n, J_n = Σ_{k=1}^{n} pass@k / k, and estimates ∇J_n by averaging the score of the
*correct* samples only: (1/c) Σ_{i correct} ∇log p(x_i), 0 when c = 0. With the harness's 1/n per
prompt (src.objectives.grpo.GRPO) that is the advantage A_i = r_i / r̄ (center=false).

The issue's and common (e.g. prime-rl's) form centres it, GRPO with the group *mean* in place of the
standard deviation:

    A_i = (r_i − r̄) / (r̄ + δ)                                               (center=true, default)

Centring only acts in groups with a success (A = 0 when r̄ = 0), so the subtracted score term has
expectation −(1/n) ∇(1 − pass@n): at δ = 0 the centred estimator is unbiased for ∇J_{n−1}, not ∇J_n
(checked exactly by enumeration in tests/test_passk_methods.py). Either way a prompt solved by a
fraction r̄ of its samples weighs like 1/r̄, as DCO's F(N, p) ≈ 1 weighs hard problems at small N.
"""
from __future__ import annotations

import numbers

import torch
from torch import Tensor

from .grpo import GRPO


def maxrl_advantages(rewards: Tensor, delta: float = 0.0, center: bool = True) -> Tensor:
    """(B, n) rewards → (B, n) advantages (r − r̄) / (r̄ + δ), or r / (r̄ + δ) uncentred; 0 where r̄ = 0."""
    if rewards.ndim != 2:
        raise ValueError(f"rewards must be (prompts, n samples), got shape {tuple(rewards.shape)}")
    if delta < 0:
        raise ValueError(f"delta must be >= 0, got {delta}")
    rewards = rewards.to(torch.float64)
    mean = rewards.mean(1, keepdim=True)
    advantages = (rewards - mean if center else rewards) / (mean + delta).clamp(min=1e-300)
    return torch.where(mean > 0, advantages, 0.0)


class MaxRL(GRPO):
    """GRPO's clipped per-token loss (shared rollout, KL, normalisation) with MaxRL's mean-normalised
    advantages in place of GRPO's std-normalised ones."""

    name = "maxrl"

    def __init__(self, delta: float = 0.0, center: bool = True, clip_range: float = 0.2, kl_coef: float = 0.0):
        super().__init__(clip_range, kl_coef)
        self.center = bool(center)
        if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or delta < 0:
            raise ValueError(f"objective.delta must be a number >= 0, got {delta!r}")
        self.delta = float(delta)

    def advantages(self, rewards: Tensor, batch) -> Tensor:
        return maxrl_advantages(rewards, self.delta, self.center)
