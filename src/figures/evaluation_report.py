"""The report of `python -m src.evaluate`: a model's pass@N on held-out problems, with intervals."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from src.evaluation.passk import bootstrap_ci, pass_at_k
from src.objectives.coverage import log_coverage
from src.utils.run_dir import RunDir


def percent_with_ci(per_problem) -> str:
    low, high = bootstrap_ci(per_problem)
    return f"{100 * np.mean(per_problem):.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def evaluation_table(run: RunDir) -> str:
    """Markdown rows for the run's last evaluation: exact coverage per N, sampled pass@k and greedy
    accuracy, each as a mean over problems in % with a 95% bootstrap interval over problems."""
    metrics = run.metrics()[-1]
    rows = run.eval_rows(metrics["epoch"])
    lines = ["| metric | % [95% CI] |", "|---|---|"]
    ref_logp = torch.tensor([r["ref_logp"] for r in rows], dtype=torch.float64)
    for n in metrics["test"]["coverage"]:  # 1 − (1 − p̂)^N of the reference answer, per problem
        lines.append(f"| pass@{n} (exact coverage) | {percent_with_ci(log_coverage(ref_logp, int(n)).exp().numpy())} |")
    if rows and "n_correct" in rows[0]:
        n_samples, n_correct = (np.array([r[key] for r in rows]) for key in ("n_samples", "n_correct"))
        for k in metrics["test"]["pass"]:
            lines.append(f"| pass@{k} (sampled, graded; {n_samples.min()} samples) | "
                         f"{percent_with_ci(pass_at_k(n_samples, n_correct, int(k)))} |")
    if rows and "greedy_correct" in rows[0]:
        lines.append(f"| greedy accuracy | {percent_with_ci([float(r['greedy_correct']) for r in rows])} |")
    return "\n".join(lines) + "\n"


def evaluation_markdown(root: Path, runs: list[RunDir]) -> str:
    parts = []
    for run in runs:
        meta = run.meta()
        figure = run.curves / "greedy_confidence.png"
        parts.append(
            f"# Evaluation of `{meta.get('model', '?')}`\n\n"
            f"data: {meta.get('resolved_source', '?')}, {run.metrics()[-1]['test']['problems']} problems\n\n"
            + evaluation_table(run)
            + (f"\n![greedy confidence]({figure.relative_to(root)})\n" if figure.exists() else ""))
    return "\n".join(parts)
