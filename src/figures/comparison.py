"""Runs side by side: CE vs DCO (or any set of objectives) on the same data and model."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from src.evaluation.passk import bootstrap_ci, coverage_per_problem
from src.figures.estimates import LEGEND, cell, sampled_with_ci
from src.figures.plotting import epoch_axis, percent_axis, plt, run_label, save_figure, source_note
from src.figures.timing import timing_table
from src.utils.run_dir import RunDir

TABLE_NS = ("1", "16", "256", "4096")


def confident(metrics: dict) -> tuple[float, float]:
    """(confident_fraction, confident_wrong_fraction) of an epoch's held-out greedy answers; NaN when
    the run did not record them (no greedy evaluation, or a run from before they were logged)."""
    greedy = metrics["test"].get("greedy", {})
    return greedy.get("confident_fraction", np.nan), greedy.get("confident_wrong_fraction", np.nan)


def _curve(ax, xs, ys, color, style, **kwargs):
    """ys in [0, 1] plotted in %, skipping missing values."""
    points = [(x, 100 * y) for x, y in zip(xs, ys) if y is not None]
    if points:
        ax.plot(*zip(*points), style, ms=3, color=color, **kwargs)


def plot_comparison(runs: list[RunDir], ns=TABLE_NS):
    """Left: final-epoch pass@N against N per run. Middle: pass@N over epochs, one panel per N (in %);
    solid (b) reference coverage, dashed (c) answer-class coverage, squares (a) sampled. Right, when
    the runs recorded them: the share of greedy answers with p̂ > 0.5 (solid) and of those that are
    wrong (dashed)."""
    metas = [r.meta() for r in runs]
    shares = any(not np.isnan(confident(m)[0]) for run in runs for m in run.metrics())
    panels = 1 + len(ns) + shares
    fig, axes = plt.subplots(1, panels, figsize=(4 * panels, 3.8), layout="constrained")
    colors = plt.cm.tab10(np.arange(len(runs)) % 10)
    for run, meta, color in zip(runs, metas, colors):
        metrics = run.metrics()
        final = metrics[-1]["test"]
        xs = [int(n) for n in final["coverage"]]
        _curve(axes[0], xs, list(final["coverage"].values()), color, "-o",
               label=f"{run_label(meta)} (epoch {metrics[-1]['epoch']})")
        _curve(axes[0], xs, [final.get("class_coverage", {}).get(n) for n in final["coverage"]], color, "--")
        _curve(axes[0], [int(k) for k in final.get("pass", {})], list(final.get("pass", {}).values()), color, "s")
        epochs = [m["epoch"] for m in metrics]
        for ax, n in zip(axes[1:], ns):
            _curve(ax, epochs, [m["test"]["coverage"].get(n) for m in metrics], color, "-o", label=run_label(meta))
            _curve(ax, epochs, [m["test"].get("class_coverage", {}).get(n) for m in metrics], color, "--")
            _curve(ax, epochs, [m["test"].get("pass", {}).get(n) for m in metrics], color, "s")
        if shares:
            fractions = 100 * np.array([confident(m) for m in metrics])
            axes[-1].plot(epochs, fractions[:, 0], "-o", ms=3, color=color, label=f"{run_label(meta)}: p̂ > 0.5")
            axes[-1].plot(epochs, fractions[:, 1], "--", color=color, label=f"{run_label(meta)}: p̂ > 0.5, wrong")
    axes[0].set(xscale="log", xlabel="N", ylim=(0, 100),
                title="final epoch — solid (b) ref. coverage, dashed (c) class, squares (a) sampled")
    axes[0].title.set_fontsize(7)
    percent_axis(axes[0], "pass@N (%)")
    for ax, n in zip(axes[1:], ns):
        ax.set_title(f"pass@{n} by epoch")
        epoch_axis(ax)
        percent_axis(ax, f"pass@{n} (%)")
    if shares:
        axes[-1].set_title("confident greedy answers")
        epoch_axis(axes[-1])
        percent_axis(axes[-1], "share of problems (%)")
        axes[-1].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"Test pass@N (exact coverage, %) — {source_note(metas)}", fontsize=10)
    return fig


def comparison_table(runs: list[RunDir], ns=TABLE_NS) -> str:
    """Markdown: one row per (run, epoch); each pass@N cell is a / b / c (src/figures/estimates.py),
    then sampled pass@k with its interval and the shares of held-out greedy answers with p̂ > 0.5
    and with p̂ > 0.5 while wrong."""
    header = ("| run | epoch | " + " | ".join(f"pass@{n} a / b / c" for n in ns)
              + " | (a) sampled pass@k [95% CI] | greedy acc | p̂ > 0.5 | p̂ > 0.5, wrong |")
    lines = [header, "|" + "---|" * (len(ns) + 6)]
    for run in runs:
        label = run_label(run.meta())
        for m in run.metrics():
            t = m["test"]
            cells = " | ".join(cell(t, n) for n in ns)
            greedy = f"{100 * t['greedy_accuracy']:.1f}" if "greedy_accuracy" in t else "–"
            shares = " | ".join("–" if np.isnan(v) else f"{100 * v:.1f}" for v in confident(m))
            lines.append(f"| {label} | {m['epoch']} | {cells} | {sampled_with_ci(t)} | {greedy} | {shares} |")
    return "\n".join(lines) + "\n"


def _coverage_logp(run: RunDir, epoch: int) -> dict[str, float]:
    """unique_id → the log p̂ behind that problem's coverage at `epoch`: answer-class (c) where
    samples were drawn, else the reference string's (b)."""
    return {r["unique_id"]: r.get("class_logp", r["ref_logp"]) for r in run.eval_rows(epoch)}


def _paired_delta(new: dict[str, float], old: dict[str, float], n: str) -> str:
    """Mean per-problem coverage@n of `new` minus `old`, in points, with a 95% bootstrap interval
    over the problems they share (the same problems, or the cell says so)."""
    if new.keys() != old.keys():
        return "not the same problems"
    ids = sorted(new)
    delta = 100 * (coverage_per_problem([new[i] for i in ids], int(n))
                   - coverage_per_problem([old[i] for i in ids], int(n)))
    low, high = bootstrap_ci(delta)
    return f"{delta.mean():+.1f} [{low:+.1f}, {high:+.1f}]"


def coverage_differences(runs: list[RunDir]) -> str:
    """Markdown, in points with paired 95% bootstrap intervals over the held-out problems (coverage as
    in `_coverage_logp`) at the two largest N evaluated: each run's coverage at the last epoch minus the
    first run's, and minus its own at the epoch where it peaked. Empty when the runs kept no
    per-problem rows."""
    kept = [[m for m in run.metrics() if run.eval_rows_file(m["epoch"]).exists()] for run in runs]
    if not runs or not all(kept):
        return ""
    ns = sorted(kept[0][-1]["test"]["coverage"], key=int)[-2:]
    largest, labels = ns[-1], [run_label(run.meta()) for run in runs]
    rows = functools.cache(_coverage_logp)  # (run, epoch) → per-problem log p̂, read once
    columns = " | ".join(f"Δ pass@{n}" for n in ns)
    lines = ["Paired differences in points, problem by problem, with 95% bootstrap intervals over the held-out "
             "problems (answer-class coverage (c) where samples were drawn, else reference coverage (b)).\n"]
    common = set.intersection(*({m["epoch"] for m in metrics} for metrics in kept))
    if len(runs) > 1 and common:
        last = max(common)
        lines += [f"**Minus {labels[0]} at epoch {last}:**\n", f"| run | {columns} |", "|---|" + "---|" * len(ns)]
        for run, label in zip(runs[1:], labels[1:]):
            deltas = " | ".join(_paired_delta(rows(run, last), rows(runs[0], last), n) for n in ns)
            lines.append(f"| {label} − {labels[0]} | {deltas} |")
        lines.append("")
    lines += [f"**Change since each run's peak at pass@{largest}:**\n",
              f"| run | peak epoch → last | {columns} |", "|---|---|" + "---|" * len(ns)]
    for run, label, metrics in zip(runs, labels, kept):
        coverage = {m["epoch"]: m["test"].get("class_coverage", m["test"]["coverage"])[largest] for m in metrics}
        peak, last = max(coverage, key=lambda e: (coverage[e], -e)), metrics[-1]["epoch"]
        deltas = " | ".join(_paired_delta(rows(run, last), rows(run, peak), n) for n in ns)
        lines.append(f"| {label} | {peak} → {last} | {deltas} |")
    return "\n".join(lines) + "\n\n"


def comparison_markdown(root: Path, runs: list[RunDir]) -> str:
    """Figure + markdown for runs side by side (the main job's report)."""
    save_figure(plot_comparison(runs), root / "comparison.png")
    return (f"# pass@N by epoch — {source_note([r.meta() for r in runs])}\n\n"
            f"Held-out problems. {LEGEND}\nAlso the shares of held-out greedy answers with p̂ > 0.5 (and "
            "wrong), in %.\n\n"
            f"{comparison_table(runs)}\n{coverage_differences(runs)}![comparison](comparison.png)\n\n"
            f"{timing_table(runs)}")
