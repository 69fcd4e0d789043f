"""PKPO: Pass@k Policy Optimization (Walder & Karkhanis 2025, arXiv 2505.15201), binary rewards.

n graded samples x_1 … x_n of one prompt, c of them correct. PKPO averages the empirical pass@k over
all C(n, k) size-k subsets of the n samples, which gives the unbiased estimator of pass@k

    ρ(n, c, k) = 1 − C(n − c, k) / C(n, k)                                   (PKPO, binary case)

and, through the score function, an unbiased estimator of ∇ pass@k: Σ_i r̃_i ∇ log p(x_i) with

    r̃_i = k / n                          if x_i is correct
    r̃_i = (k / n) · ρ(n − 1, c, k − 1)   if x_i is wrong

(the share of the subsets containing x_i in which some sample is correct, times C(n−1, k−1)/C(n, k)).
Variance reduction subtracts from each subset term a baseline that does not depend on x_i, which keeps
the estimator unbiased (PKPO's leave-one-out idea; the binary closed forms below are derived here and
checked by enumeration, and may differ in detail from the paper's published variants):

    baseline="loo":           b_i = (k / n) · ρ(n − 1, c_{−i}, k)   the pass@k estimate of the other n − 1
    baseline="loo_minus_one": each subset S ∋ i is baselined by max_{S∖i} f, the success of its other
                              k − 1 members, so r̃_i = (k / n) · (1 − ρ(n − 1, c − 1, k − 1)) for a correct x_i
                              (its marginal contribution) and 0 for a wrong one.

c_{−i} is the number of correct samples among the others. k = 1 recovers REINFORCE (no baseline) and
RLOO (baseline="loo"), both times 1/n. tests/test_passk_methods.py checks every variant's exact expectation, over all
sample tuples of a small categorical policy, against ∇ pass@k.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .grpo import GRPO

BASELINES = ("none", "loo", "loo_minus_one")


def pass_at_k_estimate(n: int, c: Tensor, k: int) -> Tensor:
    """ρ(n, c, k) = 1 − C(n − c, k) / C(n, k) for each entry of c, in the stable product form
    1 − Π_{j<k} (n − c − j) / (n − j); 0 for k = 0, 1 once c > n − k."""
    c = torch.as_tensor(c, dtype=torch.float64)
    if not 0 <= k <= n:
        raise ValueError(f"pass@k estimate needs 0 <= k <= n, got k={k}, n={n}")
    j = torch.arange(k, dtype=torch.float64, device=c.device)
    all_wrong = ((n - c[..., None] - j) / (n - j)).clamp(min=0).prod(-1)
    return 1 - all_wrong


def pkpo_rewards(rewards: Tensor, k: int, baseline: str = "none") -> Tensor:
    """(B, n) binary rewards → (B, n) transformed rewards r̃ whose Σ_i r̃_i ∇log p(x_i) estimates ∇ pass@k."""
    if rewards.ndim != 2:
        raise ValueError(f"rewards must be (prompts, n samples), got shape {tuple(rewards.shape)}")
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
    n = rewards.shape[1]
    if not 1 <= k <= n:
        raise ValueError(f"PKPO needs 1 <= k <= n = {n} samples per prompt, got k={k}")
    correct = rewards.to(torch.float64) > 0.5
    c = correct.sum(1, keepdim=True).to(torch.float64).expand_as(rewards)
    scale = k / n
    if baseline == "loo_minus_one":
        return torch.where(correct, scale * (1 - pass_at_k_estimate(n - 1, c - 1, k - 1)), 0.0)
    transformed = torch.where(correct, scale, scale * pass_at_k_estimate(n - 1, c, k - 1))
    if baseline == "loo":
        if k == n:
            raise ValueError(f'baseline="loo" needs k < n (the other n − 1 samples must hold a size-k subset), '
                             f"got k = n = {n}; use baseline=loo_minus_one or none")
        others_correct = c - correct.to(torch.float64)
        transformed = transformed - scale * pass_at_k_estimate(n - 1, others_correct, k)
    return transformed


def annealed_k(k: int, k_final: int | None, anneal_step: int | None, step: int) -> int:
    """k until optimizer step `anneal_step`, k_final from then on (PKPO anneals a large k down to 1)."""
    return k if anneal_step is None or step < anneal_step else k_final


class PKPO(GRPO):
    """GRPO's clipped per-token loss (shared rollout, KL, normalisation) with PKPO's advantages
    A_i = n · r̃_i, so that the harness's 1/n per prompt leaves exactly Σ_i r̃_i ∇log p(x_i).

    The optimizer step is read from batch["global_step"] (put there by src.rollouts.groups).
    """

    name = "pkpo"

    def __init__(self, k: int = 4, baseline: str = "loo_minus_one", k_final: int | None = None,
                 anneal_step: int | None = None, clip_range: float = 0.2, kl_coef: float = 0.0):
        super().__init__(clip_range, kl_coef)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"objective.k must be an integer >= 1 (the pass@k to optimise), got {k!r}")
        if baseline not in BASELINES:
            raise ValueError(f"objective.baseline must be one of {BASELINES}, got {baseline!r}")
        if (k_final is None) != (anneal_step is None):
            raise ValueError("objective.k_final and objective.anneal_step go together (both null: no annealing), "
                             f"got k_final={k_final!r}, anneal_step={anneal_step!r}")
        if k_final is not None and (not isinstance(k_final, int) or k_final < 1 or anneal_step < 0):
            raise ValueError(f"objective.k_final must be an integer >= 1 and anneal_step >= 0, got {k_final!r}, "
                             f"{anneal_step!r}")
        self.k, self.baseline, self.k_final, self.anneal_step = k, baseline, k_final, anneal_step

    def advantages(self, rewards: Tensor, batch) -> Tensor:
        k = annealed_k(self.k, self.k_final, self.anneal_step, int(batch.get("global_step", 0)))
        return rewards.shape[1] * pkpo_rewards(rewards, k, self.baseline)
