"""The three pass@N estimates (src/evaluation/summary.py), labelled the same way in every report."""
from __future__ import annotations

ESTIMATES = (  # metrics key under "test", short label
    ("pass", "a"),
    ("coverage", "b"),
    ("class_coverage", "c"),
)

LEGEND = (
    "Each pass@N cell is **a / b / c** in %: **(a) sampled** pass@N — N answers at temperature 1, "
    "graded for equivalence, unbiased estimator: the paper's metric, available for N ≤ the samples "
    "per problem; **(b) reference coverage** 1 − (1 − p̂_ref)^N of the one reference string, a lower "
    "bound; **(c) answer-class coverage** 1 − (1 − p̂_class)^N, p̂_class = p̂ of every distinct "
    "correct answer sampled (and the reference), a tighter lower bound. Compare with the paper on (a); "
    "(b) and (c) stand in where N exceeds the samples. – = not measured.\n"
)


def estimate(test: dict, key: str, n: str) -> float | None:
    return test.get(key, {}).get(n)


def cell(test: dict, n: str) -> str:
    """"a / b / c" in % for pass@n, "–" where an estimate is missing."""
    values = (estimate(test, key, n) for key, _ in ESTIMATES)
    return " / ".join("–" if v is None else f"{100 * v:.1f}" for v in values)


def sampled_with_ci(test: dict) -> str:
    """Sampled pass@k with its 95% bootstrap interval over problems, e.g. "1: 4.2 [3.1, 5.4]"."""
    ci = test.get("pass_ci", {})
    parts = []
    for k, v in test.get("pass", {}).items():
        interval = f" [{100 * ci[k][0]:.1f}, {100 * ci[k][1]:.1f}]" if k in ci else ""
        parts.append(f"{k}: {100 * v:.1f}{interval}")
    return ", ".join(parts) or "–"
