"""Runs side by side: CE vs DCO (or any set of objectives) on the same data and model."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.figures.plotting import epoch_axis, percent_axis, plt, run_label, save_figure, source_note
from src.utils.run_dir import RunDir

TABLE_NS = ("1", "16", "256", "4096")


def plot_comparison(runs: list[RunDir], ns=TABLE_NS):
    """Left: final-epoch pass@N against N per run. Right: pass@N over epochs, one panel per N (in %)."""
    metas = [r.meta() for r in runs]
    fig, axes = plt.subplots(1, 1 + len(ns), figsize=(4 * (1 + len(ns)), 3.8), layout="constrained")
    colors = plt.cm.tab10(np.arange(len(runs)) % 10)
    for run, meta, color in zip(runs, metas, colors):
        metrics = run.metrics()
        final = metrics[-1]["test"]["coverage"]
        axes[0].plot([int(n) for n in final], [100 * v for v in final.values()], "-o", ms=3, color=color,
                     label=f"{run_label(meta)} (epoch {metrics[-1]['epoch']})")
        for ax, n in zip(axes[1:], ns):
            ax.plot([m["epoch"] for m in metrics], [100 * m["test"]["coverage"].get(n, np.nan) for m in metrics],
                    "-o", ms=3, color=color, label=run_label(meta))
    axes[0].set(xscale="log", xlabel="N", ylim=(0, 100), title="final epoch")
    percent_axis(axes[0], "pass@N (%)")
    for ax, n in zip(axes[1:], ns):
        ax.set_title(f"pass@{n} by epoch")
        epoch_axis(ax)
        percent_axis(ax, f"pass@{n} (%)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"Test pass@N (exact coverage, %) — {source_note(metas)}", fontsize=10)
    return fig


def comparison_table(runs: list[RunDir], ns=TABLE_NS) -> str:
    """Markdown: one row per (run, epoch) with exact coverage and, when sampled, sampled pass@k."""
    header = "| run | epoch | " + " | ".join(f"pass@{n}" for n in ns) + " | sampled pass@k | greedy acc |"
    lines = [header, "|" + "---|" * (len(ns) + 4)]
    for run in runs:
        label = run_label(run.meta())
        for m in run.metrics():
            t = m["test"]
            cov = " | ".join(f"{100 * t['coverage'][n]:.1f}" if n in t["coverage"] else "–" for n in ns)
            sampled = ", ".join(f"{k}:{100 * v:.1f}" for k, v in t.get("pass", {}).items()) or "–"
            greedy = f"{100 * t['greedy_accuracy']:.1f}" if "greedy_accuracy" in t else "–"
            lines.append(f"| {label} | {m['epoch']} | {cov} | {sampled} | {greedy} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(root: Path, runs: list[RunDir]) -> str:
    """Figure + markdown for runs side by side (the main job's report)."""
    save_figure(plot_comparison(runs), root / "comparison.png")
    return (f"# pass@N by epoch — {source_note([r.meta() for r in runs])}\n\n"
            "Exact coverage 1 − (1 − p̂)^N of the reference answer on held-out problems, in %.\n\n"
            f"{comparison_table(runs)}\n![comparison](comparison.png)\n")
