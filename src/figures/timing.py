"""Where each run's time went, per epoch on average: training, and evaluation with its parts
(the `seconds` of metrics.jsonl, written by LanguageModelModule and the evaluator)."""
from __future__ import annotations

from src.figures.plotting import run_label
from src.utils.run_dir import RunDir

PHASES = ("training", "evaluation", "sampling", "grading", "coverage")


def timing_table(runs: list[RunDir]) -> str:
    """Markdown: one row per run with mean seconds per epoch and evaluation/training; empty when no
    run recorded seconds (runs from before they were recorded)."""
    lines = []
    for run in runs:
        timed = [m["seconds"] for m in run.metrics() if "seconds" in m]
        if not timed:
            continue
        mean = {p: sum(s.get(p, 0.0) for s in timed) / len(timed) for p in PHASES}
        ratio = f"{mean['evaluation'] / mean['training']:.1f}×" if mean["training"] > 0 else "–"
        lines.append(f"| {run_label(run.meta())} | {len(timed)} | "
                     + " | ".join(f"{mean[p]:.1f}" for p in PHASES) + f" | {ratio} |")
    if not lines:
        return ""
    header = ["| run | epochs | " + " | ".join(PHASES) + " | evaluation / training |",
              "|" + "---|" * (len(PHASES) + 3)]
    return ("Seconds per epoch (mean; sampling, grading and coverage are parts of evaluation):\n\n"
            + "\n".join(header + lines) + "\n")
