"""Per-problem evaluation rows → graded answers → the epoch's metrics (PAPER.md §3).

Three estimates of pass@N on the same test problems (docs/fidelity.md), each under its own key:
- (a) `pass`: **sampled** pass@k, n completions at temperature T graded by `is_equivalent`, the
  unbiased estimator — the paper's metric, k ≤ n — with a bootstrap interval over problems (`pass_ci`);
- (b) `coverage`: **reference coverage** 1 − (1 − p̂_ref)^N of the reference answer *string*, one
  teacher-forced pass, any N, a lower bound;
- (c) `class_coverage`: **answer-class coverage** 1 − (1 − p̂_class)^N, p̂_class = p̂_ref + the p̂ of
  every distinct sampled completion that grades as correct (src/evaluation/answer_class.py), any N,
  a tighter lower bound (b ≤ c).
Plus the greedy completion, its own log p̂ and whether it is right (the paper's Figure 1).
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from src.data.answers import extract_boxed
from src.evaluation.answer_class import class_logp
from src.evaluation.grading import Grader, grade_many
from src.evaluation.passk import bootstrap_ci, coverage_from_logp, pass_at_k

ANSWER_FORMATS = ("direct", "cot")
CONFIDENT = 0.5  # a greedy answer with p̂ above this is "confident" (the paper's Figure 1a/b)


def extract_answer(completion: str, answer_format: str) -> str:
    """The final answer in a completion: the whole text (direct) or the last \\boxed{} (cot)."""
    if answer_format == "direct":
        return completion.strip()
    return extract_boxed(completion) or ""


def grade_rows(rows: list[dict], timeout: float, grader: Grader = Grader.EQUIVALENT) -> None:
    """Fill `greedy_correct`, `n_correct` and `class_logp` in place; each distinct (answer, gold) is
    graded once."""
    pairs = {(a, r["gold"]) for r in rows
             for a in [r.get("greedy_answer"), *r.get("samples", []), *(d[0] for d in r.get("distinct", []))]
             if a is not None}
    pairs = sorted(pairs)
    verdict = dict(zip(pairs, grade_many([p for p, _ in pairs], [g for _, g in pairs], timeout, grader)))
    for r in rows:
        if "greedy_answer" in r:
            r["greedy_correct"] = verdict[(r["greedy_answer"], r["gold"])]
        if "samples" in r:
            counts = Counter(r.pop("samples"))
            r["n_samples"] = sum(counts.values())
            r["n_correct"] = sum(c for a, c in counts.items() if verdict[(a, r["gold"])])
            r["n_distinct"] = len(counts)
        if "distinct" in r:
            correct = [lp for answer, lp in r.pop("distinct") if verdict[(answer, r["gold"])]]
            r["class_logp"], r["n_correct_spellings"] = class_logp(r["ref_logp"], correct), len(correct)


def summarize(rows: list[dict], coverage_ns: list[int], pass_ks: list[int]) -> dict:
    """Problem-level rows → the epoch's metrics (means over problems)."""
    ref_logp = np.array([r["ref_logp"] for r in rows])
    metrics = {
        "problems": len(rows),
        "ref_logp_mean": float(ref_logp.mean()),
        "coverage": {str(n): v for n, v in coverage_from_logp(ref_logp, coverage_ns).items()},
    }
    if rows and "n_correct" in rows[0]:
        n = np.array([r["n_samples"] for r in rows])
        c = np.array([r["n_correct"] for r in rows])
        per_problem = {str(k): pass_at_k(n, c, k) for k in pass_ks}
        metrics["pass"] = {k: float(v.mean()) for k, v in per_problem.items()}
        metrics["pass_ci"] = {k: list(bootstrap_ci(v)) for k, v in per_problem.items()}
        metrics["distinct_answers_mean"] = float(np.mean([r["n_distinct"] for r in rows]))
    if rows and "class_logp" in rows[0]:
        class_logps = np.array([r["class_logp"] for r in rows])
        metrics["class_coverage"] = {str(n): v for n, v in coverage_from_logp(class_logps, coverage_ns).items()}
    if rows and "greedy_correct" in rows[0]:
        metrics["greedy_accuracy"] = float(np.mean([r["greedy_correct"] for r in rows]))
        metrics["greedy_logp_mean"] = float(np.mean([r["greedy_logp"] for r in rows]))
        metrics["greedy"] = confidence_fractions([r["greedy_logp"] for r in rows],
                                                 [r["greedy_correct"] for r in rows])
    return metrics


def confidence_fractions(greedy_logp, greedy_correct, threshold: float = CONFIDENT) -> dict[str, float]:
    """Shares of problems whose greedy answer has p̂ > `threshold` (confident_fraction), and has
    p̂ > `threshold` while being wrong (confident_wrong_fraction): the over-confidence CE builds."""
    confident = np.asarray(greedy_logp, dtype=float) > np.log(threshold)
    wrong = ~np.asarray(greedy_correct, dtype=bool)
    if confident.size == 0:
        return {"confident_fraction": float("nan"), "confident_wrong_fraction": float("nan")}
    return {"confident_fraction": float(confident.mean()),
            "confident_wrong_fraction": float((confident & wrong).mean())}
