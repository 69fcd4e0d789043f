"""Figure 2a: pass@N against N for CE and DCO at several N′ — a Pareto frontier whose best N′
sits near the test N — and the budget advice read off it ("for test budget N, train with N′ = …")."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from src.evaluation.passk import bootstrap_ci
from src.figures.estimates import LEGEND, cell
from src.figures.plotting import plt, run_label, save_figure, source_note
from src.objectives.coverage import log_coverage
from src.utils.io import atomic_write_json
from src.utils.run_dir import RunDir


def training_budget(meta: dict) -> float:
    """N′ of a run: CE is DCO with N′ = 1 (the losses are identical)."""
    objective = meta.get("objective", {})
    return 1.0 if objective.get("name") == "cross_entropy" else float(objective.get("n", np.nan))


def final_coverage(run: RunDir) -> dict[int, float]:
    return {int(n): v for n, v in run.metrics()[-1]["test"]["coverage"].items()}


def best_epoch_coverage(run: RunDir) -> dict[int, float]:
    """pass@N at the epoch best for that N: oracle early stopping on the test set (optimistic)."""
    epochs = [m["test"]["coverage"] for m in run.metrics()]
    return {int(n): max(c[n] for c in epochs) for n in epochs[-1]}


def budget_advice(runs: list[RunDir], coverage: Callable[[RunDir], dict[int, float]] = final_coverage) -> list[dict]:
    """For each test N: the N′ with the highest pass@N, and its gain over CE (N′ = 1) if present."""
    curves = {training_budget(r.meta()): coverage(r) for r in runs}
    ce = curves.get(1.0)
    advice = []
    for n in sorted(next(iter(curves.values()))):
        best = max(curves, key=lambda nt: curves[nt].get(n, -1))
        row = {"test_n": n, "train_n": best, "pass": curves[best][n]}
        if ce is not None:
            row["ce_pass"], row["gain_over_ce"] = ce[n], curves[best][n] - ce[n]
        advice.append(row)
    return advice


def final_ref_logp(run: RunDir) -> dict[str, float]:
    """log p̂ of the reference answer of each held-out problem at the run's final epoch, by problem id."""
    return {r["unique_id"]: r["ref_logp"] for r in run.eval_rows(run.metrics()[-1]["epoch"])}


def add_gain_intervals(advice: list[dict], runs: list[RunDir]) -> list[dict]:
    """95% paired-bootstrap interval (over test problems) of each final-epoch gain over CE."""
    by_budget = {training_budget(r.meta()): r for r in runs}
    if 1.0 not in by_budget:
        return advice
    needed = {row["train_n"] for row in advice} | {1.0}
    ref = {b: final_ref_logp(by_budget[b]) for b in needed}  # each run's eval rows read once
    ids = list(ref[1.0])
    logp = {b: torch.tensor([ref[b][i] for i in ids], dtype=torch.float64) for b in needed}
    for row in advice:
        n = row["test_n"]
        row["gain_ci"] = bootstrap_ci(log_coverage(logp[row["train_n"]], n).exp() - log_coverage(logp[1.0], n).exp())
    return advice


def plot_pareto(runs: list[RunDir], advice: list[dict]):
    """pass@N against N per N′ with the upper envelope; the same relative to CE (where the frontier is
    visible); and the best N′ for each test N (`advice`, from `budget_advice`)."""
    runs = sorted(runs, key=lambda r: training_budget(r.meta()))
    curves = {training_budget(r.meta()): final_coverage(r) for r in runs}
    ns = sorted(next(iter(curves.values())))
    ce = curves.get(1.0)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    colors = plt.cm.plasma(np.linspace(0, 0.85, len(runs)))
    envelope = np.max([[cov[n] for n in ns] for cov in curves.values()], axis=0)
    for run, color in zip(runs, colors):
        cov = curves[training_budget(run.meta())]
        axes[0].plot(ns, [cov[n] for n in ns], "-o", ms=3, color=color, label=run_label(run.meta()))
        if ce is not None:
            axes[1].plot(ns, [100 * (cov[n] - ce[n]) for n in ns], "-o", ms=3, color=color, label=run_label(run.meta()))
    axes[0].plot(ns, envelope, "k--", lw=1, label="upper envelope")
    axes[0].set(xscale="log", xlabel="test N", ylabel="pass@N (exact coverage)", ylim=(0, 1), title="final epoch")
    if ce is not None:
        axes[1].plot(ns, [100 * (e - ce[n]) for e, n in zip(envelope, ns)], "k--", lw=1, label="upper envelope")
        axes[1].axhline(0, color="gray", lw=0.8)
    axes[1].set(xscale="log", xlabel="test N", ylabel="pass@N − CE pass@N (points)",
                title="relative to CE" if ce is not None else "(no CE run in the sweep)")
    axes[2].plot([a["test_n"] for a in advice], [a["train_n"] for a in advice], "o-")
    axes[2].plot(ns, ns, ":", color="gray", label="N′ = N")
    axes[2].set(xscale="log", yscale="log", xlabel="test N", ylabel="best training N′", title="budget advice")
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(f"Figure 2a — {source_note([r.meta() for r in runs])}", fontsize=10)
    return fig


def final_estimates(runs: list[RunDir]) -> dict[float, dict]:
    """N′ → the final epoch's test metrics (all three estimates)."""
    return {training_budget(r.meta()): r.metrics()[-1]["test"] for r in runs}


def advice_markdown(advice: list[dict], tests: dict[float, dict] | None = None) -> str:
    """The advice, chosen on (b) reference coverage; with `tests`, the chosen run's and CE's
    a / b / c beside it (src/figures/estimates.py)."""
    lines = ["| test budget N | train with N′ | pass@N (b) | CE pass@N (b) | gain over CE (b) |"
             + (" N′ a / b / c | CE a / b / c |" if tests else ""),
             "|---|---|---|---|---|" + ("---|---|" if tests else "")]
    for a in advice:
        ce = f"{100 * a['ce_pass']:.1f}" if "ce_pass" in a else "–"
        gain = f"{100 * a['gain_over_ce']:+.1f}" if "gain_over_ce" in a else "–"
        if "gain_ci" in a:
            gain += " [{:+.1f}, {:+.1f}]".format(*(100 * g for g in a["gain_ci"]))
        line = f"| {a['test_n']} | {a['train_n']:g} | {100 * a['pass']:.1f} | {ce} | {gain} |"
        if tests:
            n = str(a["test_n"])
            ce_cell = cell(tests[1.0], n) if 1.0 in tests else "–"
            line += f" {cell(tests[a['train_n']], n)} | {ce_cell} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_fig2(root: Path, runs: list[RunDir]) -> str:
    advice = add_gain_intervals(budget_advice(runs), runs)
    save_figure(plot_pareto(runs, advice), root / "fig2_pareto.png")
    atomic_write_json(root / "budget_advice.json", advice)
    table = advice_markdown(advice, final_estimates(runs))
    print("Budget advice (for a test budget N, train with N′ = …):\n" + table)
    return ("# Figure 2a — the Pareto frontier over N′\n\n![Figure 2a](fig2_pareto.png)\n\n"
            f"## Budget advice\n\n{LEGEND}\nThe advice is chosen on (b), at the final epoch; the gain over CE "
            "with its 95% paired-bootstrap interval over test problems (test-set noise only: not run-to-run "
            "noise, and N′ is picked on the same problems).\n\n" + table +
            "\n## With oracle early stopping\n\nEach run at its best epoch for each N (chosen on the test "
            "set, so optimistic): how much of the gain is robustness to over-training.\n\n"
            + advice_markdown(budget_advice(runs, best_epoch_coverage)))  # (b) only: epochs differ per N
