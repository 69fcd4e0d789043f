"""pass@k estimators: from sampled correctness, from exact sequence probabilities, and their
uncertainty across problems."""
from __future__ import annotations

import numpy as np
import torch

from src.objectives.coverage import log_coverage


def _numpy(x) -> np.ndarray:
    """Arrays, lists, scalars and torch tensors (on any device) as numpy arrays."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def pass_at_k(n, c, k: int):
    """Unbiased pass@k from `c` correct out of `n` samples (Chen et al., 2021):
    1 − C(n−c, k) / C(n, k) = 1 − Π_{i=n−c+1}^{n} (1 − k/i), which is 1 when k > n − c.

    Vectorised over `n` and `c` (broadcast together); the product is a difference of cumulative
    sums of log(1 − k/i), so large `n` never overflows. Returns a float for scalar inputs.
    """
    n, c = np.broadcast_arrays(_numpy(n).astype(np.int64), _numpy(c).astype(np.int64))
    if k < 1:
        raise ValueError(f"pass_at_k: k must be at least 1, got k={k}")
    if np.any(c < 0) or np.any(c > n):
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got c={c.tolist()} for n={n.tolist()}")
    if np.any(k > n):
        raise ValueError(f"pass_at_k: k={k} exceeds the number of samples n={n.tolist()}")
    # log_tail[m] = Σ_{i=k+1}^{m} log(1 − k/i) for m ≥ k, so the product over i ∈ (n−c, n] is
    # exp(log_tail[n] − log_tail[n−c]) whenever n − c ≥ k.
    i = np.arange(k + 1, n.max(initial=k) + 1)
    log_tail = np.concatenate([np.zeros(k + 1), np.cumsum(np.log1p(-k / i))])
    failures = n - c
    all_fail = np.exp(log_tail[n] - log_tail[np.maximum(failures, k)])
    result = np.where(failures < k, 1.0, 1.0 - all_fail)
    return float(result) if result.ndim == 0 else result


def pass_at_k_disjoint_groups(correct, k: int) -> float:
    """The reference code's estimator: split each problem's samples into disjoint groups of `k`
    (a remainder smaller than `k` is dropped), a group passes if any sample in it is correct;
    average over groups, then over problems. Unbiased too, but with more variance than
    `pass_at_k`, which averages over all C(n, k) subsets."""
    correct = _numpy(correct).astype(bool)
    if correct.ndim != 2:
        raise ValueError(f"correct must be (problems, samples), got shape {correct.shape}")
    problems, samples = correct.shape
    if not 1 <= k <= samples:
        raise ValueError(f"pass_at_k_disjoint_groups: need 1 <= k <= {samples} samples, got k={k}")
    groups = samples // k
    grouped = correct[:, : groups * k].reshape(problems, groups, k)
    return float(grouped.any(axis=2).mean())


def coverage_per_problem(logp, n: int) -> np.ndarray:
    """Exact pass@N of a fixed answer, 1 − (1 − p̂)^N, for each problem from its log p̂ (float64,
    stable for p̂ near 0 and near 1)."""
    logp = torch.as_tensor(_numpy(logp), dtype=torch.float64)
    if torch.any(logp > 0):
        raise ValueError("coverage: log-probabilities must be <= 0")
    return log_coverage(logp, int(n)).exp().numpy()


def coverage_from_logp(logp, ns) -> dict[int, float]:
    """The mean over problems of `coverage_per_problem`, for each N in `ns`."""
    return {int(n): float(coverage_per_problem(logp, n).mean()) for n in ns}


def bootstrap_ci(per_problem_values, confidence: float = 0.95, n_resamples: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean over problems: resample problems with
    replacement `n_resamples` times and take the central `confidence` mass of the means."""
    values = _numpy(per_problem_values).astype(np.float64).ravel()
    if values.size == 0:
        raise ValueError("bootstrap_ci needs at least one problem")
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap_ci: confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    means = np.array([values[rng.integers(0, values.size, values.size)].mean()
                      for _ in range(n_resamples)])
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
