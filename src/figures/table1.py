"""Table 1: CE's pass@N after every epoch — pass@1 rises while large-N pass@N falls."""
from __future__ import annotations

from pathlib import Path

from src.figures.paper_numbers import TABLE1_CE
from src.figures.plotting import plt, run_label, save_figure, source_note
from src.utils.run_dir import RunDir

NS = ("1", "16", "256", "4096")


def table1_markdown(run: RunDir) -> str:
    lines = ["| epoch | " + " | ".join(f"pass@{n} (ours)" for n in NS) + " | "
             + " | ".join(f"pass@{n} (paper)" for n in NS) + " |", "|" + "---|" * (1 + 2 * len(NS))]
    for m in run.metrics():
        ours = " | ".join(f"{100 * m['test']['coverage'].get(n, float('nan')):.1f}" for n in NS)
        paper = TABLE1_CE.get(m["epoch"])
        theirs = " | ".join(f"{paper[n]:.1f}" if paper else "–" for n in NS)
        lines.append(f"| {m['epoch']} | {ours} | {theirs} |")
    return "\n".join(lines) + "\n"


def plot_table1(run: RunDir):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    metrics = run.metrics()
    for n in NS:
        axes[0].plot([m["epoch"] for m in metrics], [m["test"]["coverage"].get(n, float("nan")) for m in metrics], "-o", ms=3,
                     label=f"pass@{n}")
        axes[1].plot(list(TABLE1_CE), [TABLE1_CE[e][n] / 100 for e in TABLE1_CE], "--o", ms=3, label=f"pass@{n}")
    axes[0].set(title=f"ours: {run_label(run.meta())}, {source_note([run.meta()])}", xlabel="epoch", ylabel="pass@N")
    axes[1].set(title="paper: Llama-3-8B on MATH500 (Table 1)", xlabel="epoch")
    for ax in axes:
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def write_table1(root: Path, runs: list[RunDir]) -> str:
    sections = []
    for i, run in enumerate(runs):
        name = f"table1_{i}.png" if len(runs) > 1 else "table1.png"
        save_figure(plot_table1(run), root / name)
        sections.append(f"## {run_label(run.meta())} — `{run.path.name}`\n\n"
                        f"Exact coverage of the reference answer on held-out problems, in %.\n\n"
                        f"{table1_markdown(run)}\n![Table 1]({name})\n")
    return "# Table 1 — CE pass@N by epoch\n\n" + "\n".join(sections)
