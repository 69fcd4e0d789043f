"""GRPO (Shao et al. 2024, DeepSeekMath §4.1), the reinforcement-learning baseline of Table 3.

For each prompt, G completions o_1 … o_G are sampled from the policy that generated them (π_old) and
scored r_i ∈ {0, 1} by the verifier. For token t of completion i:

    Â_i     = (r_i − mean_j r_j) / (std_j r_j + δ)        group-normalised advantage (sample std, δ = 1e-4)
    ρ_{i,t} = π_θ(o_{i,t} | q, o_{i,<t}) / π_old(o_{i,t} | q, o_{i,<t})
    D_{i,t} = π_ref/π_θ − log(π_ref/π_θ) − 1              KL(π_θ ‖ π_ref) estimate (k3, unbiased, ≥ 0)
    ℓ_{i,t} = −[min(ρ_{i,t} Â_i, clip(ρ_{i,t}, 1 − ε, 1 + ε) Â_i) − β D_{i,t}]

ℓ_i is the mean over completion i's tokens and the loss is the mean of ℓ_i over the batch's B·G
completions (the original GRPO normalisation; TRL calls it loss_type="grpo"). With one optimizer step
per generation π_old = π_θ, so ρ = 1 in value and the gradient is Â_i ∇log π_θ; the clip only acts
when old log-probs from an earlier policy are supplied (batch["old_token_logp"]).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import torch
from torch import Tensor

from .base import ObjectiveOutput, sequence_logp

ADVANTAGE_EPS = 1e-4


def group_advantages(rewards: Tensor, eps: float = ADVANTAGE_EPS) -> Tensor:
    """(B, G) rewards → (B, G) advantages (r − group mean) / (group sample std + eps); 0 where all agree."""
    if rewards.ndim != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must be (prompts, G ≥ 2 completions), got shape {tuple(rewards.shape)}")
    rewards = rewards.to(torch.float64)
    return (rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + eps)


def clipped_token_losses(token_logp: Tensor, old_token_logp: Tensor, advantages: Tensor,
                         clip_range: float) -> Tensor:
    """−min(ρ Â, clip(ρ, 1 − ε, 1 + ε) Â) per token; `advantages` is (N,), one per completion."""
    ratio = torch.exp(token_logp - old_token_logp)
    advantages = advantages[:, None]
    return -torch.minimum(ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages)


def kl_to_reference(token_logp: Tensor, ref_token_logp: Tensor) -> Tensor:
    """k3 estimate of KL(π_θ ‖ π_ref) per token: e^(ref − logp) − (ref − logp) − 1."""
    log_ratio = ref_token_logp - token_logp
    return torch.exp(log_ratio) - log_ratio - 1


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean over each row's masked positions (0 for a row with none)."""
    mask = mask.to(values.dtype)
    return (values * mask).sum(-1) / mask.sum(-1).clamp(min=1)


class GRPO:
    """Per-token clipped policy-gradient loss on graded samples; needs token-level log-probs.

    batch: target_mask (N, T + 1) marking completion tokens, rewards (B, G) with N = B·G completions
    grouped prompt by prompt, and, when kl_coef > 0, ref_token_logp (N, T) from the frozen reference.
    """

    name = "grpo"
    per_token = True  # the module passes (N, T) token log-probs instead of (N,) sequence log-probs

    def __init__(self, clip_range: float = 0.2, kl_coef: float = 0.0):
        for key, value in (("clip_range", clip_range), ("kl_coef", kl_coef)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"{key} must be a number >= 0, got {value!r}")
        self.clip_range, self.kl_coef = float(clip_range), float(kl_coef)

    def advantages(self, rewards: Tensor, batch: Mapping[str, Tensor]) -> Tensor:
        """(B, G) advantages of the graded completions. The pass@k-aware methods (src/objectives/pkpo.py,
        passk_training.py, maxrl.py) replace this rule and keep everything else."""
        return group_advantages(rewards)

    def __call__(self, token_logp: Tensor, batch: Mapping[str, Tensor]) -> ObjectiveOutput:
        token_logp = token_logp.to(torch.float64)
        mask = batch["target_mask"][:, 1:]
        rewards = batch["rewards"]
        group_size = rewards.shape[1]
        if token_logp.shape[0] != rewards.numel():
            raise ValueError(f"{token_logp.shape[0]} completions but rewards of shape {tuple(rewards.shape)}")
        advantages = self.advantages(rewards, batch).reshape(-1).to(token_logp.device)
        old_token_logp = batch.get("old_token_logp")
        old_token_logp = token_logp.detach() if old_token_logp is None else old_token_logp.to(token_logp)
        token_losses = clipped_token_losses(token_logp, old_token_logp, advantages, self.clip_range)
        metrics = {"reward": rewards.to(torch.float64).mean()}
        if self.kl_coef > 0:
            if "ref_token_logp" not in batch:
                raise KeyError('GRPO with kl_coef > 0 needs batch["ref_token_logp"] from the frozen reference model')
            kl = kl_to_reference(token_logp, batch["ref_token_logp"].to(token_logp))
            token_losses = token_losses + self.kl_coef * kl
            metrics["kl"] = masked_mean(kl.detach(), mask).mean()
        # each prompt counts once in the batch mean: its G completions share the example's weight
        losses = masked_mean(token_losses, mask) / group_size
        return ObjectiveOutput(
            losses=losses,
            logp=sequence_logp(token_logp.detach(), mask),
            factor=torch.ones_like(losses.detach()),
            kept=torch.ones_like(losses, dtype=torch.bool),
            metrics=metrics,
        )
