"""Closed forms of src/theory against direct computation."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

from src.theory.confidence_factor import confidence_factor_curves
from src.theory.optimal_confidence import expected_coverage, optimal_confidence
from src.theory.toy_example import toy_example


def test_toy_example_numbers():
    result = toy_example(ns=(1, 16, 256, 4096))
    assert result["A"] == pytest.approx({1: 0.5, 16: 0.5, 256: 0.5, 4096: 0.5})
    assert result["B"][1] == pytest.approx(0.1)
    assert result["B"][16] == pytest.approx(0.8147, abs=1e-4)
    assert result["B"][4096] == pytest.approx(1.0)
    assert result["A"][1] > result["B"][1] and result["A"][16] < result["B"][16]  # the reversal


def test_confidence_factor_curves():
    ns, ps = [1, 2, 16, 256], np.array([1e-12, 1e-3, 0.05, 0.5, 0.9, 1.0])
    curves = confidence_factor_curves(ns, ps)
    assert curves.shape == (4, 6)
    np.testing.assert_allclose(curves[0], 1.0)  # N = 1 is cross-entropy
    np.testing.assert_allclose(curves[:, 0], 1.0, rtol=1e-9)  # F → 1 as p → 0
    np.testing.assert_allclose(curves[1:, -1], 0.0)  # F = 0 at p = 1 for N > 1
    assert np.all(np.diff(curves[1:], axis=1) < 0)  # falls in p
    with mpmath.workdps(50):
        exact = [[float(n * p * (1 - p) ** (n - 1) / (1 - (1 - p) ** n)) for p in map(mpmath.mpf, ps[:-1])]
                 for n in ns]
    np.testing.assert_allclose(curves[:, :-1], exact, rtol=1e-12)
    assert 0.58 < confidence_factor_curves([256], [1 / 256])[0, 0] < 0.59  # PAPER.md: F(N, 1/N) ≈ 0.58


def expected_miss(q, n, r, m):
    """1 − E_N(q), as a sum of positive terms: accurate even where coverage rounds to 1."""
    return r * (1 - q) ** n + (1 - r) * (1 - (1 - q) / m) ** n


@pytest.mark.parametrize("r", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("n", [2, 3, 16, 256, 4096])
def test_optimal_confidence_maximises_expected_coverage(n, r):
    m = 9
    grid = np.linspace(0, 1, 200_001)
    best_on_grid = grid[np.argmin(expected_miss(grid, n, r, m))]
    q_star = optimal_confidence(n, r, m)
    assert q_star == pytest.approx(best_on_grid, abs=1e-5)
    assert expected_coverage(q_star, n, r, m) >= expected_coverage(grid, n, r, m).max() - 1e-15


@pytest.mark.parametrize("r", [0.15, 0.3, 0.6, 0.9, 0.99])
def test_optimal_confidence_falls_with_n(r):
    m = 9
    ns = np.array([1, 2, 4, 8, 16, 64, 256, 1024, 4096, 2**20])
    q_star = optimal_confidence(ns, r, m)
    assert q_star[0] == 1.0  # pass@1 wants certainty on the top answer
    assert np.all(np.diff(q_star) < 0)
    assert q_star[-1] == pytest.approx(1 / (m + 1), abs=1e-4)  # → uniform over M + 1 answers
    # q* − 1/(M+1) ≈ M² ln(rM/(1−r)) / ((M+1)² (N−1)) for large N
    n = ns[-2]
    excess = m**2 * np.log(r * m / (1 - r)) / ((m + 1) ** 2 * (n - 1))
    assert q_star[-2] - 1 / (m + 1) == pytest.approx(excess, rel=0.01)


def test_optimal_confidence_broadcasts_and_limits():
    ns, rs = np.array([2, 16, 256]), np.array([0.0, 0.1, 0.5, 1.0])
    table = optimal_confidence(ns[None, :], rs[:, None], m=9)
    assert table.shape == (4, 3)
    np.testing.assert_allclose(table[0], 0.0)  # the top answer is never right
    np.testing.assert_allclose(table[1], 0.1)  # r = 1/(M+1): the top answer is no better than the others
    np.testing.assert_allclose(table[3], 1.0)  # always right: certainty is optimal at every N
    assert np.all(np.diff(table[2]) < 0)
    assert optimal_confidence(1, 0.5, m=1) == 0.5  # the exact tie at N = 1: every q is optimal
    with pytest.raises(ValueError):
        optimal_confidence(0, 0.5)
