"""The toy example behind the paper's argument (PAPER.md §2): over several problems, the model
with the better pass@1 can have the worse pass@N.

Two problems x₁, x₂. Model A is certain: right on x₁, wrong on x₂. Model B hedges: it puts 0.1 on
the right answer of each. A: pass@1 = pass@N = 1/2. B: pass@1 = 0.1, pass@16 ≈ 0.81, → 1.
"""
from __future__ import annotations

import numpy as np

# probability each model puts on the right answer of (x₁, x₂)
CONFIDENT_MODEL = (1.0, 0.0)
HEDGING_MODEL = (0.1, 0.1)


def expected_pass_at_n(p_correct, ns) -> np.ndarray:
    """Mean over problems of 1 − (1 − p)^N, for each N in `ns`."""
    miss = 1.0 - np.asarray(p_correct, dtype=np.float64)
    ns = np.asarray(ns, dtype=np.float64)
    return 1.0 - np.mean(miss[None, :] ** ns[:, None], axis=1)


def toy_example(ns=(1, 16, 256)) -> dict[str, dict[int, float]]:
    """pass@N of both models: {"A": {N: value}, "B": {N: value}}."""
    return {name: dict(zip(map(int, ns), expected_pass_at_n(model, ns).tolist()))
            for name, model in (("A", CONFIDENT_MODEL), ("B", HEDGING_MODEL))}
