"""Table 1: CE's pass@N after every epoch — pass@1 rises while large-N pass@N falls."""
from __future__ import annotations

from pathlib import Path

from src.figures.estimates import LEGEND, cell, estimate
from src.figures.paper_numbers import TABLE1_CE
from src.figures.plotting import is_cross_entropy, plt, run_label, save_figure, source_note
from src.utils.run_dir import RunDir

NS = ("1", "16", "256", "4096")


def table1_markdown(run: RunDir) -> str:
    """One row per epoch: a / b / c per N (src/figures/estimates.py) and, for CE runs only, the paper's
    CE numbers (its sampled pass@N, comparable with our (a))."""
    with_paper = is_cross_entropy(run.meta())
    header = "| epoch | " + " | ".join(f"pass@{n} a / b / c" for n in NS)
    if with_paper:
        header += " | " + " | ".join(f"paper CE pass@{n} (a)" for n in NS)
    lines = [header + " |", "|" + "---|" * (1 + len(NS) * (2 if with_paper else 1))]
    for m in run.metrics():
        row = f"| {m['epoch']} | " + " | ".join(cell(m["test"], n) for n in NS)
        if with_paper:
            paper = TABLE1_CE.get(m["epoch"])
            row += " | " + " | ".join(f"{paper[n]:.1f}" if paper else "–" for n in NS)
        lines.append(row + " |")
    return "\n".join(lines) + "\n"


def plot_table1(run: RunDir):
    """Left: ours, (b) solid, (c) dashed, (a) squares. Right: the paper's CE (sampled)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    metrics, epochs = run.metrics(), [m["epoch"] for m in run.metrics()]
    for n, color in zip(NS, plt.cm.tab10(range(len(NS)))):
        for key, style, label in (("coverage", "-o", f"pass@{n} (b)"), ("class_coverage", "--", f"(c)"),
                                  ("pass", "s", f"(a)")):
            points = [(e, estimate(m["test"], key, n)) for e, m in zip(epochs, metrics)]
            points = [(e, v) for e, v in points if v is not None]
            if points:
                axes[0].plot(*zip(*points), style, ms=3, color=color, label=label)
        axes[1].plot(list(TABLE1_CE), [TABLE1_CE[e][n] / 100 for e in TABLE1_CE], "--o", ms=3, color=color,
                     label=f"pass@{n}")
    axes[0].set(title=f"ours: {run_label(run.meta())}, {source_note([run.meta()])}", xlabel="epoch", ylabel="pass@N")
    axes[1].set(title="paper: CE, Llama-3-8B on MATH500 (Table 1, sampled)", xlabel="epoch")
    for ax in axes:
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    return fig


def write_table1(root: Path, runs: list[RunDir]) -> str:
    sections = []
    for i, run in enumerate(runs):
        name = f"table1_{i}.png" if len(runs) > 1 else "table1.png"
        save_figure(plot_table1(run), root / name)
        sections.append(f"## {run_label(run.meta())} — `{run.path.name}`\n\n"
                        f"Held-out problems. {LEGEND}\n"
                        f"{table1_markdown(run)}\n![Table 1]({name})\n")
    return "# Table 1 — CE pass@N by epoch\n\n" + "\n".join(sections)
