"""How confident should a policy be on its top answer when it is graded by pass@N?

Model. On every problem the policy puts probability q on its top answer and spreads 1 − q evenly
over M other candidate answers. Over the population of problems the top answer is right with
probability r (the prior, or calibration, of the top answer); otherwise the right answer is one
of the M others, uniformly. Expected coverage at budget N is then

    E_N(q) = r·(1 − (1 − q)^N) + (1 − r)·(1 − (1 − (1 − q)/M)^N),

a concave function of q (a sum of two concave ones), maximised where its derivative vanishes:

    r·(1 − q)^(N−1) = ((1 − r)/M)·(1 − (1 − q)/M)^(N−1).

With a = (1 − r)/(r·M) and t = a^(1/(N−1)) this gives 1 − q* = M·t/(M + t), clipped to [0, 1].
When the top answer deserves to be on top (r > 1/(M + 1), i.e. a < 1), q* falls strictly with N:
from 1 at N = 1 (pass@1 wants certainty) towards the uniform 1/(M + 1) as N → ∞, with
q* − 1/(M + 1) ≈ M²·ln(1/a) / ((M + 1)²·(N − 1)). This is the paper's Lemmas 4.2/4.3 in spirit:
the pass@N-optimal maximum confidence is squeezed between decreasing functions of N.
"""
from __future__ import annotations

import numpy as np


def expected_coverage(q, n, r, m):
    """E_N(q) above: expected pass@N of confidence `q` on the top answer (arrays broadcast)."""
    q, n, r = (np.asarray(x, dtype=np.float64) for x in (q, n, r))
    return r * (1 - (1 - q) ** n) + (1 - r) * (1 - (1 - (1 - q) / m) ** n)


def optimal_confidence(ns, r, m: int = 9) -> np.ndarray:
    """q*(N) = argmax_q E_N(q), in closed form (see the module docstring); `ns` and `r` broadcast,
    e.g. ``optimal_confidence(ns[None, :], rs[:, None])`` gives one row per prior r. At N = 1 the
    objective is linear in q, and q* is 1 or 0 (1/(M + 1) at the tie r = 1/(M + 1))."""
    ns, r = np.asarray(ns, dtype=np.float64), np.asarray(r, dtype=np.float64)
    if np.any(ns < 1) or np.any((r < 0) | (r > 1)) or m < 1:
        raise ValueError("optimal_confidence: need N >= 1, r in [0, 1] and M >= 1")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_a = np.log1p(-r) - np.log(r * m)  # ±inf at r ∈ {0, 1}
        m_over_t = m * np.exp(-log_a / (ns - 1))  # N = 1: 0 or inf, by the sign of log a
        m_over_t = np.where(log_a == 0, m, m_over_t)  # the tie: t = 1 for every N
        return np.clip(1 - m / (1 + m_over_t), 0.0, 1.0)
