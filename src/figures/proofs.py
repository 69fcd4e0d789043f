"""Theorem-proving figures and tables: solved fraction by reference proof length for each N_eff
(from run folders), ensemble against single models at equal budget, and search tree shapes (from
the JSON that src/evaluation/proof_comparisons.py writes next to the runs)."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from src.evaluation.proof_comparisons import proof_label
from src.figures.plotting import plt, save_figure
from src.utils.run_dir import RunDir


def _percent(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _by_length(summary: dict) -> dict[int, float]:
    return {int(n): v for n, v in summary.get("pass@budget_by_length", {}).items()}


# ---------------------------------------------------------------- solved fraction by proof length


def plot_solved_by_length(runs: list[RunDir]):
    """Final epoch: pass@budget against the reference proof length, one line per model."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(1, len(runs))))
    for run, color in zip(runs, colors):
        test = run.metrics()[-1]["test"]
        by_length = _by_length(test)
        ax.plot(list(by_length), list(by_length.values()), "-o", ms=3, color=color,
                label=f"{proof_label(run.meta())} ({_percent(test['pass@budget'])}%)")
    budget = runs[0].metrics()[-1]["test"]["budget"] if runs else "?"
    ax.set(xlabel="reference proof length (steps)", ylabel=f"solved at budget {budget}", ylim=(0, 1.02),
           title="Held-out theorems solved, by proof length")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, title="model (overall)", title_fontsize=7)
    return fig


def solved_by_length_table(runs: list[RunDir]) -> str:
    """Markdown: final-epoch pass@budget per model, overall and by reference proof length (in %),
    with the mean length of the proofs found and the mean p̂ of training steps (confidence)."""
    lengths = sorted({n for run in runs for n in _by_length(run.metrics()[-1]["test"])})
    lines = ["| model | epoch | solved | " + " | ".join(f"len {n}" for n in lengths)
             + " | mean proof found | train step p̂ |", "|" + "---|" * (len(lengths) + 5)]
    for run in runs:
        last = run.metrics()[-1]
        test, by_length = last["test"], _by_length(last["test"])
        found = {int(n): c for n, c in test["proof_lengths"].items()}
        mean_found = f"{sum(n * c for n, c in found.items()) / sum(found.values()):.2f}" if found else "–"
        step_p = last.get("train", {}).get("step_p")
        lines.append(f"| {proof_label(run.meta())} | {last['epoch']} | {_percent(test['pass@budget'])} | "
                     + " | ".join(_percent(by_length.get(n)) for n in lengths)
                     + f" | {mean_found} | {'–' if step_p is None else f'{step_p:.3g}'} |")
    return "\n".join(lines) + "\n"


def draw_proof_run_curves(run: RunDir) -> list:
    """A proof run's own figure: solved fraction by proof length, one line per epoch."""
    metrics = run.metrics()
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(1, len(metrics))))
    for m, color in zip(metrics, colors):
        by_length = _by_length(m["test"])
        ax.plot(list(by_length), list(by_length.values()), "-o", ms=3, color=color,
                label=f"epoch {m['epoch']} ({_percent(m['test']['pass@budget'])}%)")
    ax.set(xlabel="reference proof length", ylabel=f"solved at budget {metrics[-1]['test']['budget']}",
           ylim=(0, 1.02), title=proof_label(run.meta()))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return [save_figure(fig, run.curves / "solved_by_length.png")]


# ---------------------------------------------------------------- ensembles


def plot_ensemble(result: dict):
    """Left: overall pass@budget of each model alone (budget B and its share B/m) and of the
    ensemble (B in all). Right: by proof length, the ensemble against each model alone at B."""
    names, budget = list(result["single"]), result["budget"]
    fig, (bars, lines) = plt.subplots(1, 2, figsize=(12, 4))
    x = np.arange(len(names))
    bars.bar(x - 0.2, [result["single"][n]["pass@budget"] for n in names], 0.4, label=f"alone, budget {budget}")
    bars.bar(x + 0.2, [result["member_at_share"][n]["pass@budget"] for n in names], 0.4,
             label=f"alone, its share ({min(result['shares'].values())})")
    bars.axhline(result["ensemble"]["pass@budget"], color="k", ls="--", label=f"ensemble, budget {budget}")
    bars.set_xticks(x, names, rotation=20, fontsize=8)
    bars.set(ylabel="held-out theorems solved", ylim=(0, 1.02), title="Ensemble vs single models, equal budget")
    bars.legend(fontsize=7)
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(1, len(names))))
    for name, color in zip(names, colors):
        by_length = _by_length(result["single"][name])
        lines.plot(list(by_length), list(by_length.values()), "-o", ms=3, color=color, label=name)
    by_length = _by_length(result["ensemble"])
    lines.plot(list(by_length), list(by_length.values()), "k--o", ms=3, label="ensemble")
    lines.set(xlabel="reference proof length", ylabel=f"solved at budget {budget}", ylim=(0, 1.02))
    lines.xaxis.set_major_locator(MaxNLocator(integer=True))
    lines.grid(alpha=0.3)
    lines.legend(fontsize=7)
    return fig


def ensemble_table(result: dict) -> str:
    rows = [(f"{name}, alone", result["budget"], s) for name, s in result["single"].items()]
    rows += [(f"{name}, alone", result["shares"][name], s) for name, s in result["member_at_share"].items()]
    rows.append((f"ensemble of {len(result['single'])}", result["budget"], result["ensemble"]))
    lengths = sorted({n for _, _, s in rows for n in _by_length(s)})
    lines = ["| search | budget | solved | " + " | ".join(f"len {n}" for n in lengths) + " |",
             "|" + "---|" * (len(lengths) + 3)]
    for name, budget, s in rows:
        by_length = _by_length(s)
        lines.append(f"| {name} | {budget} | {_percent(s['pass@budget'])} | "
                     + " | ".join(_percent(by_length.get(n)) for n in lengths) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- tree shapes


def plot_tree_shapes(result: dict):
    """pass@budget of each model under each search shape (same budget), grouped by model."""
    shapes = list(result)
    names = list(next(iter(result.values()))) if result else []
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names)), 4))
    width = 0.8 / max(1, len(shapes))
    for i, shape in enumerate(shapes):
        ax.bar(np.arange(len(names)) + (i - (len(shapes) - 1) / 2) * width,
               [result[shape][n]["pass@budget"] for n in names], width, label=shape)
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set(ylabel="held-out theorems solved", ylim=(0, 1.02), title="Search tree shape × training N_eff")
    ax.legend(fontsize=7, title="search", title_fontsize=7)
    return fig


def tree_shapes_table(result: dict, shapes: dict) -> str:
    names = list(next(iter(result.values()))) if result else []
    lines = ["| model | " + " | ".join(f"{s} `{_describe(shapes[s])}`" for s in result) + " |",
             "|" + "---|" * (len(result) + 1)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_percent(result[s][name]["pass@budget"]) for s in result) + " |")
    return "\n".join(lines) + "\n"


def _describe(fields: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in fields.items())
