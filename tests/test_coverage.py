"""The coverage math against autograd, finite differences and 50-digit mpmath."""
import math

import mpmath
import pytest
import torch

from src.objectives.coverage import confidence_factor, dco_loss, log1mexp, log_coverage

LOGPS = [-1e4, -700.0, -50.0, -10.0, -1.0, -1e-3, -1e-12, 0.0]
BUDGETS = [1, 2, 4.5, 256, 4096, 1e7]
GRID = [(logp, n) for logp in LOGPS for n in BUDGETS]


def reference(logp: float, n: float) -> tuple[float, float]:
    """(log C_n, F) with 50 significant digits, using mpmath's own log1p/expm1 at both ends."""
    with mpmath.workdps(50):
        logp, n = mpmath.mpf(logp), mpmath.mpf(n)
        if logp == 0:
            return 0.0, 1.0 if n == 1 else 0.0
        p = mpmath.exp(logp)
        log_q = mpmath.log1p(-p) if logp < -1 else mpmath.log(-mpmath.expm1(logp))
        b = n * log_q  # log (1 − p)^n
        log_cov = mpmath.log(-mpmath.expm1(b)) if b > -mpmath.log(2) else mpmath.log1p(-mpmath.exp(b))
        factor = n * p * mpmath.exp((n - 1) * log_q - log_cov)
        return float(log_cov), float(factor)


def grad_of_dco_loss(logp: torch.Tensor, n) -> torch.Tensor:
    logp = logp.clone().requires_grad_(True)
    dco_loss(logp, n).sum().backward()
    return logp.grad


def grid_tensors():
    logp = torch.tensor([g[0] for g in GRID], dtype=torch.float64)
    n = torch.tensor([float(g[1]) for g in GRID], dtype=torch.float64)
    return logp, n


def test_values_and_gradients_are_finite_on_the_whole_grid():
    logp, n = grid_tensors()
    for value in (log_coverage(logp, n), confidence_factor(logp, n), grad_of_dco_loss(logp, n)):
        assert torch.isfinite(value).all()
        assert value.dtype == torch.float64


def test_autograd_gradient_is_minus_confidence_factor():
    logp, n = grid_tensors()
    grad, factor = grad_of_dco_loss(logp, n), confidence_factor(logp, n)
    torch.testing.assert_close(grad, -factor, rtol=1e-10, atol=0.0)


@pytest.mark.parametrize("n", BUDGETS)
def test_scalar_budget_matches_tensor_budget(n):
    logp = torch.tensor(LOGPS, dtype=torch.float64)
    assert torch.equal(log_coverage(logp, n), log_coverage(logp, torch.tensor(float(n))))
    assert torch.equal(grad_of_dco_loss(logp, n), grad_of_dco_loss(logp, torch.tensor(float(n))))


def test_against_mpmath_at_50_digits():
    logp, n = grid_tensors()
    expected = torch.tensor([reference(*g) for g in GRID], dtype=torch.float64)
    torch.testing.assert_close(log_coverage(logp, n), expected[:, 0], rtol=1e-13, atol=0.0)
    torch.testing.assert_close(confidence_factor(logp, n), expected[:, 1], rtol=1e-12, atol=0.0)


def test_tiny_probability_follows_the_series():
    # 1 − (1 − p)^n ≈ n p: log C_n = log n + log p, not −inf, even where p̂ underflows.
    assert log_coverage(-1e4, 256).item() == pytest.approx(math.log(256) - 1e4, rel=1e-15)
    assert confidence_factor(-1e4, 256).item() == 1.0


def test_certain_answer_has_full_coverage_and_no_gradient():
    assert log_coverage(0.0, 256).item() == 0.0
    assert grad_of_dco_loss(torch.zeros(1, dtype=torch.float64), 256).item() == 0.0
    assert confidence_factor(0.0, 256).item() == 0.0
    assert confidence_factor(0.0, 1).item() == 1.0


@pytest.mark.parametrize("n", [2, 4.5, 256, 4096])
def test_finite_differences(n):
    logp = torch.tensor([-50.0, -10.0, -3.0, -1.0, -0.5, -0.1, -1e-2], dtype=torch.float64)
    step = 1e-6 * logp.abs()
    slope = (dco_loss(logp + step, n) - dco_loss(logp - step, n)) / (2 * step)
    torch.testing.assert_close(slope, grad_of_dco_loss(logp, n), rtol=1e-6, atol=1e-300)


def test_budget_one_is_cross_entropy_exactly():
    logp = torch.tensor(LOGPS, dtype=torch.float64)
    assert torch.equal(dco_loss(logp, 1), -logp)
    assert torch.equal(grad_of_dco_loss(logp, 1), -torch.ones_like(logp))
    assert torch.equal(confidence_factor(logp, 1), torch.ones_like(logp))


@pytest.mark.parametrize("n", [1.5, 2, 16, 256, 4096, 1e7])
def test_factor_is_non_increasing_in_p_and_lies_in_unit_interval(n):
    logp = -torch.logspace(4, -14, 4000, dtype=torch.float64)  # p̂ increasing from e^-10⁴ to ~1
    factor = confidence_factor(torch.cat([logp, torch.zeros(1, dtype=torch.float64)]), n)
    assert (factor.diff() <= 1e-14).all()  # float64 rounding where F ≈ 1 - O(1e-15)
    assert ((0 <= factor) & (factor <= 1)).all()


def test_log1mexp_branches_meet_and_gradients_are_finite():
    x = torch.tensor([-1e4, -math.log(2) - 1e-12, -math.log(2), -math.log(2) + 1e-12, -1e-300], dtype=torch.float64)
    x.requires_grad_(True)
    y = log1mexp(x)
    y.sum().backward()
    expected = [float(mpmath.log(-mpmath.expm1(v))) for v in x.tolist()]
    torch.testing.assert_close(y.detach(), torch.tensor(expected, dtype=torch.float64), rtol=1e-15, atol=0.0)
    assert torch.isfinite(x.grad).all()
    assert log1mexp(0.0).item() == -math.inf


@pytest.mark.parametrize("n", [2, 16, 256, 4096, 1_000_000])
def test_factor_at_one_over_n_is_between_0_58_and_0_67(n):
    # PAPER.md: F(N, 1/N) ≈ 0.58–0.67; exactly (1−1/N)^(N−1)/(1−(1−1/N)^N), 2/3 at N = 2, → 1/(e−1) ≈ 0.582.
    factor = confidence_factor(math.log(1 / n), n).item()
    assert 1 / (math.e - 1) < factor <= 2 / 3 + 1e-15


@pytest.mark.parametrize("n", [4096, 1e7])
def test_factor_is_a_tenth_near_p_3_6_over_n(n):
    # PAPER.md: F ≈ 0.1 near p ≈ 3.6/N. For large N, F → x/(eˣ − 1) with x = N p; = 0.1 at x ≈ 3.615.
    assert confidence_factor(math.log(3.6 / n), n).item() == pytest.approx(0.1, abs=2e-3)


def test_factor_is_one_for_an_impossible_answer():
    """p̂ = 0 (log p̂ = −inf, e.g. a never-scored example in the cached refill rule) keeps F = 1."""
    logp = torch.tensor([-math.inf, -math.inf])
    assert torch.equal(confidence_factor(logp, torch.tensor([1.0, 256.0])), torch.ones(2, dtype=torch.float64))
