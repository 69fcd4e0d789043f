"""Pass@k Training (Chen et al. 2025, arXiv 2508.10751): analytic group advantages for pass@k.

Their "full sampling" procedure forms every size-k group of a prompt's n responses, rewards a group 1
when any member is correct, normalises the group rewards by their mean R̄ and standard deviation σ,
and gives each response the mean advantage of the groups it belongs to. In closed form (their §4):

    R̄     = 1 − C(n_neg, k) / C(n, k)
    σ     = √(R̄ (1 − R̄))
    A_pos = (1 − R̄) / σ
    A_neg = (1 − R̄ − C(n_neg − 1, k − 1) / C(n − 1, k − 1)) / σ

n_neg = number of wrong responses. Where every group agrees (σ = 0) the advantages are 0.
tests/test_passk_methods.py checks the closed form against the brute-force average over all groups.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .grpo import GRPO
from .pkpo import pass_at_k_estimate


def passk_training_advantages(rewards: Tensor, k: int) -> Tensor:
    """(B, n) binary rewards → (B, n) advantages A_pos / A_neg of each response."""
    if rewards.ndim != 2:
        raise ValueError(f"rewards must be (prompts, n responses), got shape {tuple(rewards.shape)}")
    n = rewards.shape[1]
    if not 1 <= k <= n:
        raise ValueError(f"Pass@k Training needs 1 <= k <= n = {n} responses per prompt, got k={k}")
    correct = rewards.to(torch.float64) > 0.5
    c = correct.sum(1, keepdim=True).to(torch.float64)
    mean = pass_at_k_estimate(n, c, k)  # R̄ = 1 − C(n_neg, k)/C(n, k)
    std = (mean * (1 - mean)).sqrt()
    # C(n_neg − 1, k − 1)/C(n − 1, k − 1): the share of a wrong response's groups that are all wrong
    all_wrong_with_it = 1 - pass_at_k_estimate(n - 1, c, k - 1)
    positive = (1 - mean) / std.clamp(min=1e-300)
    negative = (1 - mean - all_wrong_with_it) / std.clamp(min=1e-300)
    advantages = torch.where(correct, positive, negative)
    return torch.where(std > 0, advantages, 0.0)


class PassKTraining(GRPO):
    """GRPO's clipped per-token loss (shared rollout, KL, normalisation) with the analytic Pass@k
    Training advantages in place of GRPO's."""

    name = "passk_training"

    def __init__(self, k: int = 16, clip_range: float = 0.2, kl_coef: float = 0.0):
        super().__init__(clip_range, kl_coef)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"objective.k must be an integer >= 1 (the pass@k to optimise), got {k!r}")
        self.k = k

    def advantages(self, rewards: Tensor, batch) -> Tensor:
        return passk_training_advantages(rewards, self.k)
