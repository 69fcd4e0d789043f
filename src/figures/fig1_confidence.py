"""Figure 1: (a, b) CE's greedy-answer confidence over epochs, split into correct and wrong —
confidence grows, mostly on wrong answers; (c) the confidence factor F(N, p); (d) DCO with larger
N′ keeps the greedy answer's confidence lower."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.figures.comparison import confident
from src.figures.fig2_pareto import training_budget
from src.figures.plotting import plt, run_label, save_figure, source_note
from src.figures.run_curves import confidence_bins, plot_greedy_confidence
from src.theory.confidence_factor import confidence_factor_curves
from src.utils.run_dir import RunDir

F_CURVE_NS = (1, 4, 16, 64, 256, 1024, 4096)


def plot_confidence_factor(ns=F_CURVE_NS):
    ps = np.logspace(-6, 0, 400)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for n, f in zip(ns, confidence_factor_curves(ns, ps)):
        ax.plot(ps, f, label=f"N = {n}")
    ax.set(xscale="log", xlabel="p̂ (probability of the reference answer)", ylabel="F(N, p̂)",
           title="(c) the confidence factor (closed form: no data, no run)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def plot_final_confidence_by_budget(runs: list[RunDir]):
    fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
    runs = sorted(runs, key=lambda r: training_budget(r.meta()))
    last = [run.metrics()[-1]["epoch"] for run in runs]
    logps = [[row["greedy_logp"] for row in run.eval_rows(epoch)] for run, epoch in zip(runs, last)]
    bins = confidence_bins([v for values in logps for v in values])
    for run, epoch, values in zip(runs, last, logps):
        ax.hist(np.clip(values, bins[0], 0), bins=bins, histtype="step",
                label=f"{run_label(run.meta())} (epoch {epoch}, median {np.median(values):.2f})")
    ax.set(xlabel="log p̂(greedy answer | x), clipped at the 1st percentile", ylabel="problems",
           title=f"(d) confidence at the last epoch — {source_note([r.meta() for r in runs])}")
    ax.legend(fontsize=7)
    return fig


def write_fig1(root: Path, runs: list[RunDir]) -> str:
    ce = [r for r in runs if training_budget(r.meta()) == 1.0]
    parts = ["# Figure 1 — confidence of the greedy answer\n"]
    if ce:
        rows = {m["epoch"]: ce[0].eval_rows(m["epoch"]) for m in ce[0].metrics()}
        title = f"(a, b) {run_label(ce[0].meta())} over epochs — {source_note([ce[0].meta()])}"
        save_figure(plot_greedy_confidence(rows, title), root / "fig1ab_ce_confidence.png")
        parts.append("![Figure 1a/b](fig1ab_ce_confidence.png)\n")
        parts.append(confidence_table(rows))
    save_figure(plot_confidence_factor(), root / "fig1c_confidence_factor.png")
    save_figure(plot_final_confidence_by_budget(runs), root / "fig1d_confidence_by_budget.png")
    parts += ["![Figure 1c](fig1c_confidence_factor.png)\n", "![Figure 1d](fig1d_confidence_by_budget.png)\n",
              "Held-out greedy answers with p̂ > 0.5, and with p̂ > 0.5 while wrong, per epoch (%):\n",
              confident_by_run_table(sorted(runs, key=lambda r: training_budget(r.meta())))]
    return "\n".join(parts)


def confident_by_run_table(runs: list[RunDir]) -> str:
    """Markdown: one row per epoch, for each run `confident_fraction / confident_wrong_fraction`."""
    per_run = [{m["epoch"]: confident(m) for m in run.metrics()} for run in runs]
    epochs = sorted({epoch for fractions in per_run for epoch in fractions})
    lines = ["| epoch | " + " | ".join(f"{run_label(run.meta())}: p̂ > 0.5 / wrong" for run in runs) + " |",
             "|---|" + "---|" * len(runs)]
    for epoch in epochs:
        cells = [fractions.get(epoch, (np.nan, np.nan)) for fractions in per_run]
        lines.append(f"| {epoch} | " + " | ".join(
            "–" if np.isnan(a) else f"{100 * a:.1f} / {100 * b:.1f}" for a, b in cells) + " |")
    return "\n".join(lines) + "\n"


def confidence_table(rows_by_epoch: dict[int, list[dict]]) -> str:
    """Per epoch: greedy accuracy, and the share of confident (p̂ > 0.5) greedy answers that are wrong."""
    lines = ["| epoch | greedy accuracy | median log p̂ (greedy) | greedy answers with p̂ > 0.5 | of those, wrong |",
             "|---|---|---|---|---|"]
    for epoch, rows in sorted(rows_by_epoch.items()):
        logp = np.array([r["greedy_logp"] for r in rows])
        correct = np.array([r["greedy_correct"] for r in rows])
        confident = logp > np.log(0.5)
        wrong = f"{100 * (~correct[confident]).mean():.0f}%" if confident.any() else "–"
        lines.append(f"| {epoch} | {100 * correct.mean():.1f}% | {np.median(logp):.2f} | {confident.sum()} | {wrong} |")
    return "\n".join(lines) + "\n"
