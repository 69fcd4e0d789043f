"""A single run's figures: pass@N against N per epoch, and greedy-answer confidence per epoch."""
from __future__ import annotations

import numpy as np

from src.figures.plotting import plt, run_label, save_figure
from src.figures.proofs import draw_proof_run_curves
from src.utils.run_dir import RunDir


def plot_passn_by_epoch(metrics: list[dict], title: str):
    """(b) reference coverage (solid), (c) answer-class coverage (dashed) and (a) sampled pass@N
    (dots), one colour per epoch (src/figures/estimates.py)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(1, len(metrics))))
    for color, m in zip(colors, metrics):
        cov = m["test"]["coverage"]
        ax.plot([int(n) for n in cov], list(cov.values()), "-", color=color, label=f"epoch {m['epoch']}")
        if "class_coverage" in m["test"]:
            cls = m["test"]["class_coverage"]
            ax.plot([int(n) for n in cls], list(cls.values()), "--", color=color)
        if "pass" in m["test"]:
            sampled = m["test"]["pass"]
            ax.plot([int(k) for k in sampled], list(sampled.values()), "o", color=color, ms=4)
    ax.set(xscale="log", xlabel="N (samples per problem)", ylabel="pass@N", ylim=(0, 1), title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, title="solid: (b) ref. coverage\ndashed: (c) class coverage\ndots: (a) sampled", title_fontsize=7)
    return fig


def confidence_bins(logps, n_bins: int = 30) -> np.ndarray:
    """Shared histogram bins for log p̂ from its 1st percentile (at most −1) to 0; plot values
    clipped to the first edge so a few outliers do not squash the rest."""
    return np.linspace(min(np.percentile(logps, 1) if len(logps) else -1.0, -1.0), 0, n_bins)


def plot_greedy_confidence(rows_by_epoch: dict[int, list[dict]], title: str):
    """log p̂(greedy answer | x) per epoch as box plots, greedy answers that are correct beside those
    that are wrong (Figure 1a/b): each box is its own group's distribution, however few problems it
    holds (counts under the axis), so a small "correct" group stays as visible as a large "wrong" one."""
    epochs = sorted(rows_by_epoch)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(epochs) + 2), 4), layout="constrained")
    width = 0.35
    for offset, correct, color in ((-width / 2, True, "tab:green"), (width / 2, False, "tab:red")):
        groups = [[r["greedy_logp"] for r in rows_by_epoch[e] if r["greedy_correct"] == correct] for e in epochs]
        present = [i for i, g in enumerate(groups) if g]
        if present:
            ax.boxplot([groups[i] for i in present], positions=[epochs[i] + offset for i in present],
                       widths=width * 0.9, patch_artist=True, showfliers=True, manage_ticks=False,
                       boxprops={"facecolor": color, "alpha": 0.45}, medianprops={"color": "black"},
                       flierprops={"markersize": 2, "markeredgecolor": color})
        ax.plot([], [], "s", color=color, alpha=0.6,
                label=f"greedy answer {'correct' if correct else 'wrong'}")
    counts = {e: sum(r["greedy_correct"] for r in rows_by_epoch[e]) for e in epochs}
    ax.set_xticks(epochs, [f"{e}\n{counts[e]}/{len(rows_by_epoch[e])}" for e in epochs], fontsize=7)
    ax.set(xlabel="epoch (under it: correct / problems)", ylabel="log p̂(greedy answer | x)", title=title)
    ax.set_xlim(epochs[0] - 0.6, epochs[-1] + 0.6)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def draw_run_curves(run: RunDir) -> list:
    """(Re)draw a run's own figures from its files; returns the written paths."""
    meta, metrics = run.meta(), run.metrics()
    if not metrics:
        return []
    if "pass@budget" in metrics[-1]["test"]:  # a proof-search run (src/evaluation/proof_evaluator.py)
        return draw_proof_run_curves(run)
    title = f"{run_label(meta)} — {meta.get('resolved_source', '?')}"
    paths = [save_figure(plot_passn_by_epoch(metrics, title), run.curves / "passn_vs_n.png")]
    rows = {m["epoch"]: run.eval_rows(m["epoch"]) for m in metrics if run.eval_rows_file(m["epoch"]).exists()}
    if rows and all("greedy_logp" in r for rs in rows.values() for r in rs):
        paths.append(save_figure(plot_greedy_confidence(rows, title), run.curves / "greedy_confidence.png"))
    return paths
