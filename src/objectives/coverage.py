"""Coverage 1 − (1 − p̂)^n, the DCO loss and the confidence factor F(n, p̂), all from log p̂.

Pure torch on tensors of any shape (n: number or tensor broadcastable with logp), computed in float64.
Every function is finite, with finite gradients, for logp ∈ [−∞, 0] and n ≥ 1.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_HALF = -math.log(2.0)
# Below log(n p̂) = −40 the series 1 − (1 − p̂)^n = n p̂ (1 − (n − 1) p̂ / 2 + …) is n p̂ to double precision.
LOG_NP_SERIES = -40.0
# |log p̂| smaller than the smallest normal float64 is p̂ = 1 (exp rounds to 1 long before).
LOGP_CERTAIN = -torch.finfo(torch.float64).tiny


def _float64(logp: Tensor | float, n: Tensor | float) -> tuple[Tensor, Tensor]:
    logp = torch.as_tensor(logp, dtype=torch.float64)
    return logp, torch.as_tensor(n, dtype=torch.float64, device=logp.device)


def log1mexp(x: Tensor | float) -> Tensor:
    """log(1 − eˣ) for x ≤ 0 (Mächler 2012); −inf at x = 0.

    torch.where differentiates both sides, so each side only ever sees inputs where it is finite.
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    near_zero = x > LOG_HALF
    return torch.where(
        near_zero,
        torch.log(-torch.expm1(torch.where(near_zero, x, -1.0))),
        torch.log1p(-torch.exp(torch.where(near_zero, -1.0, x))),
    )


def log_coverage(logp: Tensor | float, n: Tensor | float) -> Tensor:
    """log C_n = log(1 − (1 − p̂)^n) from logp = log p̂; exactly logp at n = 1 and 0 at p̂ = 1."""
    logp, n = _float64(logp, n)
    log_np = torch.log(n) + logp
    certain = logp > LOGP_CERTAIN  # C_n = 1
    rare = log_np < LOG_NP_SERIES  # C_n = n p̂
    general = log1mexp(n * log1mexp(torch.where(certain | rare, -1.0, logp)))
    value = torch.where(rare, log_np, torch.where(certain, 0.0, general))
    return torch.where(n == 1, logp, value)


def dco_loss(logp: Tensor | float, n: Tensor | float) -> Tensor:
    """ℓ_n = −log(1 − (1 − p̂)^n); n = 1 is cross-entropy −log p̂, exactly."""
    return -log_coverage(logp, n)


def confidence_factor(logp: Tensor | float, n: Tensor | float) -> Tensor:
    """F(n, p̂) = n p̂ (1 − p̂)^(n−1) / (1 − (1 − p̂)^n) ∈ [0, 1], so that ∂ℓ_n/∂log p̂ = −F.

    1 at n = 1 and as n p̂ → 0; 0 at p̂ = 1 for n > 1. Callers that use it as a weight detach logp.
    """
    logp, n = _float64(logp, n)
    certain = logp > LOGP_CERTAIN
    impossible = logp == -math.inf  # p̂ = 0: the limit n p̂ → 0, F = 1
    logp = torch.where(impossible, -1.0, logp)
    log_q = log1mexp(torch.where(certain, -1.0, logp))  # log(1 − p̂)
    # (log n + log p̂ − log C_n) is exactly 0 in the series regime: same operations, same rounding.
    log_factor = (torch.log(n) + logp - log_coverage(logp, n)) + (n - 1) * log_q
    factor = torch.where(certain, 0.0, torch.exp(log_factor).clamp(max=1.0))
    return torch.where((n == 1) | impossible, 1.0, factor)
