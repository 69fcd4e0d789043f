"""pass@k estimators against brute force, math.comb and direct formulas."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from src.evaluation.passk import bootstrap_ci, coverage_from_logp, pass_at_k, pass_at_k_disjoint_groups


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    """Fraction of the k-subsets of n samples (the first c correct) holding a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(min(subset) < c for subset in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_matches_brute_force_and_comb(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            expected = brute_force_pass_at_k(n, c, k)
            assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)
            assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


def test_pass_at_k_edges():
    assert pass_at_k(100, 0, 10) == 0.0
    assert pass_at_k(100, 100, 10) == 1.0
    assert pass_at_k(100, 95, 10) == 1.0  # k > n − c: every k-subset holds a correct sample
    assert pass_at_k(100, 7, 1) == pytest.approx(0.07)
    assert pass_at_k(4096, 1, 4096) == 1.0
    assert pass_at_k(4096, 1, 256) == pytest.approx(256 / 4096)


def test_pass_at_k_large_n_against_exact_integers():
    n, c, k = 4096, 37, 256
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)  # Python integers are exact
    assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-12)


def test_pass_at_k_vectorised():
    n = np.array([[10, 20], [30, 40]])
    c = np.array([[0, 5], [29, 40]])
    got = pass_at_k(n, c, 3)
    assert got.shape == (2, 2)
    for index in np.ndindex(n.shape):
        assert got[index] == pytest.approx(pass_at_k(int(n[index]), int(c[index]), 3), abs=1e-15)
    np.testing.assert_allclose(pass_at_k(50, np.arange(51), 5),  # scalar n broadcasts
                               [1 - math.comb(50 - c, 5) / math.comb(50, 5) for c in range(51)], atol=1e-12)
    np.testing.assert_allclose(pass_at_k(torch.tensor([8, 8]), torch.tensor([1, 2]), 2), pass_at_k([8, 8], [1, 2], 2))


@pytest.mark.parametrize("n, c, k, message", [(4, 1, 5, "exceeds"), (4, 1, 0, "at least 1"),
                                              (4, 5, 1, "c <= n"), (4, -1, 1, "c <= n")])
def test_pass_at_k_rejects_bad_arguments(n, c, k, message):
    with pytest.raises(ValueError, match=message):
        pass_at_k(n, c, k)


def test_disjoint_groups_by_hand():
    correct = np.array([[0, 0, 1, 0, 0, 0, 1],   # groups of 2: (0,0) (1,0) (0,0), 7th dropped → 1/3
                        [1, 1, 1, 1, 1, 1, 0]], dtype=bool)  # → 1
    assert pass_at_k_disjoint_groups(correct, 2) == pytest.approx((1 / 3 + 1) / 2)
    assert pass_at_k_disjoint_groups(correct, 1) == pytest.approx((2 / 7 + 6 / 7) / 2)
    assert pass_at_k_disjoint_groups(correct, 7) == 1.0
    with pytest.raises(ValueError):
        pass_at_k_disjoint_groups(correct, 8)


def test_disjoint_groups_agree_with_unbiased_estimator_on_average():
    rng = np.random.default_rng(0)
    correct = rng.random((2000, 16)) < 0.1
    unbiased = pass_at_k(16, correct.sum(1), 4).mean()
    assert pass_at_k_disjoint_groups(correct, 4) == pytest.approx(unbiased, abs=0.02)


def test_coverage_from_logp_matches_direct_formula():
    p = np.array([0.0, 1e-9, 0.01, 0.1, 0.5, 0.999, 1.0])
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    ns = [1, 4, 16, 256, 4096]
    got = coverage_from_logp(logp, ns)
    assert list(got) == ns
    for n in ns:
        assert got[n] == pytest.approx(np.mean(1 - (1 - p) ** n), rel=1e-12)
    assert coverage_from_logp(torch.tensor([-1000.0]), [10])[10] == 0.0  # e^−1000 underflows
    with pytest.raises(ValueError):
        coverage_from_logp([0.5], [1])


def test_bootstrap_ci_contains_mean_and_shrinks_with_more_problems():
    rng = np.random.default_rng(1)
    widths = []
    for problems in (50, 5000):
        values = (rng.random(problems) < 0.3).astype(float)
        low, high = bootstrap_ci(values, n_resamples=500)
        assert low <= values.mean() <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 5  # width ∝ 1/√problems: about 10× narrower
    assert bootstrap_ci([0.25] * 10) == (0.25, 0.25)
    # two problems, values 0 and 1: resampled means are 0, ½, 1 with probability ¼, ½, ¼, so the
    # central 95% of 1000 resamples spans both extremes
    assert bootstrap_ci([0.0, 1.0]) == (0.0, 1.0)
