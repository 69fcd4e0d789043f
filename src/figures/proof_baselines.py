"""Proof methods side by side (experiment=proof_baselines, docs/passk_methods.md): pass@budget of
best-first search on held-out theorems, per evaluated epoch, with 95% bootstrap intervals over
theorems, the tokens each run spent (src/utils/compute.py), the paired difference to CE at the same
epoch ("*": its 95% interval excludes 0; test-set noise only, one seed per method) and the solved
fraction by reference proof length at the last epoch.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from src.evaluation.passk import bootstrap_ci
from src.figures.plotting import plt, save_figure, source_note
from src.utils.run_dir import RunDir

REFERENCE = "CE"


def method(run: RunDir) -> str:
    meta = run.meta()
    if meta.get("role") == "warm_start":
        return "start"
    objective = meta["objective"]
    name = objective["name"]
    if name == "cross_entropy" or (name == "dco_step" and objective.get("n_eff") == 1):
        return "CE"
    if name == "dco_step":
        return f"DCO_step N_eff={objective['n_eff']:g}"
    if name == "uniform_allocation":
        return f"UA N={objective['n']:g}"
    if name == "unlikeliness":
        return f"unlikeliness β={objective['beta']:g}"
    return name


def solved(run: RunDir, epoch: int) -> dict[str, float]:
    """{theorem: 1.0 if proved within the budget}, from the epoch's per-theorem rows."""
    if not run.eval_rows_file(epoch).exists():
        return {}
    return {row["name"]: float(row["solved"]) for row in run.eval_rows(epoch)}


def cell(run: RunDir, metrics: dict) -> str:
    value = 100 * metrics["test"]["pass@budget"]
    rows = solved(run, metrics["epoch"])
    if not rows:
        return f"{value:.1f}"
    low, high = bootstrap_ci(list(rows.values()))
    return f"{value:.1f} [{100 * low:.0f}, {100 * high:.0f}]"


def difference(run: RunDir, reference: RunDir | None, epoch: int) -> str:
    if reference is None or run is reference:
        return "–"
    ours, theirs = solved(run, epoch), solved(reference, epoch)
    shared = sorted(set(ours) & set(theirs))
    if not shared:
        return "–"
    gaps = [ours[t] - theirs[t] for t in shared]
    low, high = bootstrap_ci(gaps)
    return f"{100 * np.mean(gaps):+.1f} [{100 * low:+.0f}, {100 * high:+.0f}]" + ("*" if low > 0 or high < 0 else "")


def tokens(metrics: dict, kind: str) -> int:
    return int(metrics.get("compute", {}).get(f"{kind}_tokens", 0))


def per_epoch_table(runs: dict[str, RunDir]) -> str:
    lines = [f"| method | epoch | sampled tokens | trained tokens | pass@budget | Δ vs {REFERENCE} |", "|---|---|---|---|---|---|"]
    for name, run in runs.items():
        for m in sorted(run.metrics(), key=lambda m: m["epoch"]):
            epoch = 0 if name == "start" else m["epoch"]
            gap = "–" if name == "start" else difference(run, runs.get(REFERENCE), m["epoch"])
            lines.append(f"| {name} | {epoch} | {tokens(m, 'sampled'):,} | {tokens(m, 'trained'):,} | {cell(run, m)} | {gap} |")
    return "\n".join(lines) + "\n"


def by_length_table(runs: dict[str, RunDir]) -> str:
    finals = {name: run.metrics()[-1] for name, run in runs.items()}
    lengths = sorted({int(n) for m in finals.values() for n in m["test"].get("pass@budget_by_length", {})})
    lines = ["| method | " + " | ".join(f"length {n}" for n in lengths) + " |", "|" + "---|" * (1 + len(lengths))]
    for name, m in finals.items():
        by_length = m["test"].get("pass@budget_by_length", {})
        lines.append(f"| {name} | " + " | ".join(f"{100 * by_length[str(n)]:.0f}" if str(n) in by_length else "–"
                                                 for n in lengths) + " |")
    return "\n".join(lines) + "\n"


def plot(runs: dict[str, RunDir]):
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    start = runs.get("start")
    for i, (name, run) in enumerate((n, r) for n, r in runs.items() if n != "start"):
        points = ([start.metrics()[-1] | {"compute": {}}] if start else []) + run.metrics()
        left.plot([tokens(m, "sampled") + tokens(m, "trained") for m in points],
                  [100 * m["test"]["pass@budget"] for m in points], "-o", ms=3, color=f"C{i}", label=name)
        by_length = run.metrics()[-1]["test"].get("pass@budget_by_length", {})
        lengths = sorted(by_length, key=int)
        right.plot([int(n) for n in lengths], [100 * by_length[n] for n in lengths], "-o", ms=3, color=f"C{i}", label=name)
    left.set(xlabel="tokens spent (sampled + trained)", ylabel="pass@budget (%)",
             title="held-out theorems, best-first search")
    right.set(xlabel="reference proof length", ylabel="solved (%)", title="last epoch, by length")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=7)
    fig.suptitle(f"Proof methods, {source_note([r.meta() for r in runs.values()])}", fontsize=10)
    return fig


def write_proof_baselines(root: Path, runs: list[RunDir]) -> str:
    named = {method(run): run for run in runs}
    order = ["start", "CE"]
    runs_in_order = {n: named[n] for n in sorted(named, key=lambda n: (order.index(n) if n in order else len(order), n))}
    save_figure(plot(runs_in_order), root / "proof_baselines.png")
    budget = next(iter(runs_in_order.values())).metrics()[-1]["test"].get("budget", math.nan)
    return ("# Proof methods on equal terms\n\n"
            f"Held-out theorems proved by best-first search within {budget} tactic samples, in % with 95% "
            f"bootstrap intervals over theorems ({source_note([r.meta() for r in runs])}). Tokens are cumulative "
            "training compute; epoch 0 is the shared warm start. Δ: paired over the same theorems at the same "
            "epoch, in points; * = its 95% interval excludes 0 (test-set noise only, one seed per method).\n\n"
            f"## Per evaluated epoch\n\n{per_epoch_table(runs_in_order)}\n"
            f"## Solved by reference proof length (last epoch)\n\n{by_length_table(runs_in_order)}\n"
            "![proof methods](proof_baselines.png)\n")
