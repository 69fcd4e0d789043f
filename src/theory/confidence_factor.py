"""The confidence limiter F(N, p) of the DCO gradient, ∇ℓ_N = F(N, p̂)·∇ℓ_CE (PAPER.md §2)."""
from __future__ import annotations

import numpy as np
import torch

from src.objectives.coverage import confidence_factor


def confidence_factor_curves(ns, ps) -> np.ndarray:
    """F(N, p) = N p (1 − p)^(N−1) / (1 − (1 − p)^N) on the grid ns × ps, shape (len(ns), len(ps)).

    F = 1 at N = 1 and as p → 0, and falls to ≈ 0 once p ≫ 1/N (Figure 1c). One implementation
    for the package: this evaluates `src.objectives.coverage.confidence_factor`.
    """
    ns = torch.as_tensor(np.asarray(ns, dtype=np.float64)).reshape(-1, 1)
    ps = torch.as_tensor(np.asarray(ps, dtype=np.float64)).reshape(1, -1)
    if torch.any((ps < 0) | (ps > 1)) or torch.any(ns < 1):
        raise ValueError("confidence_factor_curves: need probabilities in [0, 1] and N >= 1")
    return confidence_factor(torch.log(ps), ns).numpy()
