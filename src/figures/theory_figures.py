"""The paper's explanation in closed form: F curves, the toy example, optimal confidence against N."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.figures.fig1_confidence import plot_confidence_factor
from src.figures.plotting import plt, save_figure
from src.theory.optimal_confidence import optimal_confidence
from src.theory.toy_example import toy_example

TOY_NS = (1, 4, 16, 64, 256)
PRIORS = (0.2, 0.4, 0.6, 0.8)


def plot_optimal_confidence(ns=np.unique(np.logspace(0, 4, 60).round()), priors=PRIORS, m: int = 9):
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for r in priors:
        ax.plot(ns, optimal_confidence(ns, r, m), label=f"top answer right w.p. r = {r}")
    ax.axhline(1 / (m + 1), color="gray", ls=":", label=f"uniform over {m + 1} answers")
    ax.set(xscale="log", xlabel="test budget N", ylabel="pass@N-optimal confidence q*",
           title="optimal confidence on the top answer", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def toy_markdown(ns=TOY_NS) -> str:
    table = toy_example(ns)
    lines = ["| model | " + " | ".join(f"pass@{n}" for n in ns) + " |", "|" + "---|" * (len(ns) + 1)]
    names = {"A": "A: certain (right on x₁, wrong on x₂)", "B": "B: hedging (0.1 on the right answer of each)"}
    for key, row in table.items():
        lines.append(f"| {names[key]} | " + " | ".join(f"{100 * row[n]:.1f}%" for n in ns) + " |")
    return "\n".join(lines) + "\n"


def write_theory(root: Path) -> str:
    save_figure(plot_confidence_factor(), root / "confidence_factor.png")
    save_figure(plot_optimal_confidence(), root / "optimal_confidence.png")
    return ("# Theory — why pass@N wants limited confidence\n\n"
            "## The toy example (PAPER.md §2)\n\n" + toy_markdown() +
            "\nThe better pass@1 model (A) is the worse pass@N model for every N ≥ 8.\n\n"
            "## The confidence factor F(N, p̂)\n\n∇ℓ_DCO = F · ∇ℓ_CE: F ≈ 1 while p̂ ≪ 1/N and ≈ 0 once "
            "p̂ ≫ 1/N, so DCO stops pushing confidence past a few / N.\n\n![F](confidence_factor.png)\n\n"
            "## Optimal confidence against N\n\nA policy puts q on its top answer and spreads the rest over 9 "
            "others; the top answer is right with probability r. The q maximising expected pass@N falls "
            "with N towards uniform (`src/theory/optimal_confidence.py`).\n\n![q*](optimal_confidence.png)\n")
