"""Table 3: chain of thought — CE vs GRPO vs DCO_a, sampled pass@{1,16,64} after every epoch.

The paper's reading: GRPO is best at pass@1 but worst at large N (it sharpens the model onto one
answer); DCO_a, which limits confidence on problems the model already solves, is best at large N.
The runs' shared starting model (a `warm_start` run, src/warm_start.py) is shown as epoch 0.
"""
from __future__ import annotations

import math
from pathlib import Path

from src.evaluation.passk import bootstrap_ci, pass_at_k
from src.figures.paper_numbers import TABLE3_COT_EPOCH3, TABLE3_COT_EPOCH5_PASS64
from src.figures.plotting import plt, run_label, save_figure, source_note
from src.utils.run_dir import RunDir

KS = ("1", "16", "64")
METHODS = {"cross_entropy": "CE", "grpo": "GRPO", "dco_approx": "DCO_a"}  # objective name → Table 3 name
START = "start"


def method(run: RunDir) -> str:
    meta = run.meta()
    return START if meta.get("role") == "warm_start" else METHODS.get(meta["objective"]["name"], run_label(meta))


def sampled_pass(metrics: dict, k: str) -> float:
    """Sampled pass@k in % (NaN when the run did not sample k completions)."""
    return 100 * metrics["test"].get("pass", {}).get(k, math.nan)


def paper_pass(name: str, epoch: int, k: str) -> float | None:
    if epoch == 3:
        return TABLE3_COT_EPOCH3.get(name, {}).get(k)
    if epoch == 5 and k == "64":
        return TABLE3_COT_EPOCH5_PASS64.get(name)
    return None


def by_method(runs: list[RunDir]) -> dict[str, RunDir]:
    """{"start": …, "CE": …, "GRPO": …, "DCO_a": …} in that order, for the methods present."""
    named = {method(run): run for run in runs}
    order = [START, *METHODS.values()]
    return {name: named[name] for name in sorted(named, key=lambda n: order.index(n) if n in order else len(order))}


def percents(values) -> str:
    return " | ".join("–" if v is None or math.isnan(v) else f"{v:.1f}" for v in values)


def table3_markdown(runs: dict[str, RunDir]) -> str:
    lines = ["| method | epoch | " + " | ".join(f"pass@{k}" for k in KS) + " | "
             + " | ".join(f"paper pass@{k}" for k in KS) + " |", "|" + "---|" * (2 + 2 * len(KS))]
    for name, run in runs.items():
        for m in run.metrics()[-1:] if name == START else run.metrics():
            epoch = 0 if name == START else m["epoch"]
            lines.append(f"| {name} | {epoch} | {percents(sampled_pass(m, k) for k in KS)} | "
                         f"{percents(paper_pass(name, epoch, k) for k in KS)} |")
    return "\n".join(lines) + "\n"


def winners(values: dict[str, float]) -> str:
    """The method with the highest value, or the tied ones."""
    values = {name: v for name, v in values.items() if not math.isnan(v)}
    if not values:
        return "–"
    best = [name for name, v in values.items() if v == max(values.values())]
    return best[0] if len(best) == 1 else f"tie ({', '.join(best)})"


def interval(run: RunDir, k: str) -> str:
    """95% bootstrap interval (over problems) of the last epoch's pass@k, from its per-problem rows."""
    epoch = run.metrics()[-1]["epoch"]
    if not run.eval_rows_file(epoch).exists():
        return ""
    rows = [r for r in run.eval_rows(epoch) if r.get("n_samples", 0) >= int(k)]
    if not rows:
        return ""
    low, high = bootstrap_ci(pass_at_k([r["n_samples"] for r in rows], [r["n_correct"] for r in rows], int(k)))
    return f" [{100 * low:.0f}, {100 * high:.0f}]"


def best_at_each_k(runs: dict[str, RunDir]) -> str:
    """Which method wins each pass@k at our last epoch (with 95% intervals), and in the paper at epoch 3."""
    trained = {name: run for name, run in runs.items() if name != START}
    lines = []
    for k in KS:
        ours = {name: sampled_pass(run.metrics()[-1], k) for name, run in trained.items()}
        spread = ", ".join(f"{name} {value:.1f}{interval(trained[name], k)}"
                           for name, value in ours.items() if not math.isnan(value))
        paper = winners({name: TABLE3_COT_EPOCH3[name][k] for name in TABLE3_COT_EPOCH3})
        lines.append(f"- pass@{k}: ours **{winners(ours)}** ({spread or 'not sampled'}), paper **{paper}**\n")
    return "".join(lines)


def history(run: RunDir, start: RunDir | None) -> list[tuple[int, dict]]:
    """(epoch, metrics) after every epoch of a run, preceded by the shared start as epoch 0."""
    return ([(0, start.metrics()[-1])] if start else []) + [(m["epoch"], m) for m in run.metrics()]


def plot_table3(runs: dict[str, RunDir]):
    """pass@k over epochs, one panel per k; last panel: pass@k against k at our last epoch (solid)
    and the paper's epoch 3 (dashed)."""
    fig, axes = plt.subplots(1, len(KS) + 1, figsize=(4 * (len(KS) + 1), 3.6))
    colors = {name: f"C{i}" for i, name in enumerate(METHODS.values())}
    for name, run in runs.items():
        if name == START:
            continue
        points, color = history(run, runs.get(START)), colors.get(name)
        for ax, k in zip(axes, KS):
            ax.plot([epoch for epoch, _ in points], [sampled_pass(m, k) for _, m in points], "-o", ms=3,
                    color=color, label=name)
            ax.set(title=f"pass@{k}", xlabel="epoch (0: shared start)", ylabel="%")
        last_epoch, last = points[-1]
        axes[-1].plot([int(k) for k in KS], [sampled_pass(last, k) for k in KS], "-o", ms=3, color=color,
                      label=f"{name}, ours (epoch {last_epoch})")
        if name in TABLE3_COT_EPOCH3:
            axes[-1].plot([int(k) for k in KS], [TABLE3_COT_EPOCH3[name][k] for k in KS], "--o", ms=3,
                          mfc="none", color=color, label=f"{name}, paper (epoch 3)")
    axes[-1].set(xscale="log", xlabel="k", ylabel="pass@k (%)", title="ours vs paper")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    sources = source_note([r.meta() for r in runs.values()])
    fig.suptitle(f"Table 3, chain of thought — sampled pass@k, {sources}", fontsize=10)
    return fig


def write_table3(root: Path, runs: list[RunDir]) -> str:
    runs = by_method(runs)
    save_figure(plot_table3(runs), root / "table3.png")
    return ("# Table 3 — chain of thought: CE vs GRPO vs DCO_a\n\n"
            f"Sampled pass@k on held-out problems, in % (unbiased estimator, temperature-1 samples; "
            f"{source_note([r.meta() for r in runs.values()])}). Paper: Llama-3-8B on MATH500, epochs 3 "
            "and 5 (secondary source, PAPER.md §3); epoch 0 is the runs' shared starting model.\n\n"
            f"{table3_markdown(runs)}\nBest method at each k (our last epoch, with 95% bootstrap intervals over "
            "problems; paper epoch 3):\n\n"
            f"{best_at_each_k(runs)}\n![Table 3](table3.png)\n")
