"""The pass@k-aware methods side by side (experiment=passk_baselines, docs/passk_methods.md).

Every run's metrics.jsonl holds, after each epoch, the sampled pass@k on the held-out problems and
the tokens spent so far (`compute`: sampled by rollouts, trained through forward + backward). The
report gives pass@k with 95% bootstrap intervals over problems (1) per epoch and (2) at an equal
sampled-token budget: the largest budget every sampling method reached, each method taken at its
last evaluation within it. Methods that sample nothing while training (CE) appear at their last epoch.
Differences to GRPO are paired over the same problems; "clears the noise" means the 95% paired
interval excludes 0 (test-set noise only: one seed per method, so not run-to-run noise).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from src.evaluation.passk import bootstrap_ci, pass_at_k
from src.figures.plotting import plt, save_figure, source_note
from src.utils.run_dir import RunDir

KS = ("1", "4", "16", "64")  # the experiment's pass@k; runs evaluated at other k report theirs (`ks`)
NAMES = {"cross_entropy": "CE", "grpo": "GRPO", "dco_approx": "DCO_a", "pkpo": "PKPO",
         "passk_training": "Pass@k Training", "maxrl": "MaxRL"}
REFERENCE = "GRPO"  # the paired differences are taken against it


def ks(runs) -> tuple[str, ...]:
    """The k every run evaluated pass@k at, in increasing order (KS when the runs hold none)."""
    found = {k for run in runs for m in run.metrics() for k in m["test"].get("pass", {})}
    return tuple(sorted(found, key=int)) or KS


def method(run: RunDir) -> str:
    """"CE", "PKPO k=4", … — the objective's name with its k when it has one; "start" for the warm start."""
    meta = run.meta()
    if meta.get("role") == "warm_start":
        return "start"
    objective = meta["objective"]
    name = NAMES.get(objective["name"], objective["name"])
    return f"{name} k={objective['k']}" if "k" in objective else name


def evaluations(run: RunDir) -> list[dict]:
    """The run's evaluation rows in epoch order (each with its `compute` ledger)."""
    return sorted(run.metrics(), key=lambda m: m["epoch"])


def per_problem(run: RunDir, epoch: int, k: str) -> dict[str, float] | None:
    """{problem: unbiased pass@k} at `epoch`, from the per-problem rows (None without them)."""
    if not run.eval_rows_file(epoch).exists():
        return None
    rows = [r for r in run.eval_rows(epoch) if r.get("n_samples", 0) >= int(k)]
    values = pass_at_k([r["n_samples"] for r in rows], [r["n_correct"] for r in rows], int(k)) if rows else []
    return {str(r.get("unique_id", i)): float(v) for i, (r, v) in enumerate(zip(rows, np.atleast_1d(values)))}


def cell(run: RunDir, metrics: dict, k: str) -> str:
    """"12.5 [8, 17]": pass@k in % with its 95% bootstrap interval over problems."""
    value = 100 * metrics["test"].get("pass", {}).get(k, math.nan)
    if math.isnan(value):
        return "–"
    values = per_problem(run, metrics["epoch"], k)
    if not values:
        return f"{value:.1f}"
    low, high = bootstrap_ci(list(values.values()))
    return f"{value:.1f} [{100 * low:.0f}, {100 * high:.0f}]"


def tokens(metrics: dict, kind: str) -> int:
    return int(metrics.get("compute", {}).get(f"{kind}_tokens", 0))


def per_epoch_table(runs: dict[str, RunDir], at: tuple[str, ...] = KS) -> str:
    lines = ["| method | epoch | sampled tokens | trained tokens | " + " | ".join(f"pass@{k}" for k in at) + " |",
             "|" + "---|" * (4 + len(at))]
    for name, run in runs.items():
        for m in evaluations(run)[-1:] if name == "start" else evaluations(run):
            epoch = 0 if name == "start" else m["epoch"]
            lines.append(f"| {name} | {epoch} | {tokens(m, 'sampled'):,} | {tokens(m, 'trained'):,} | "
                         + " | ".join(cell(run, m, k) for k in at) + " |")
    return "\n".join(lines) + "\n"


def equal_budget(runs: dict[str, RunDir]) -> tuple[int, dict[str, dict | None]]:
    """The budget (sampled tokens) every sampling method reached, and each method's last evaluation
    within it (None when its first evaluation already spent more)."""
    trained = {name: run for name, run in runs.items() if name != "start"}
    finals = [tokens(evaluations(run)[-1], "sampled") for run in trained.values()]
    budget = min((f for f in finals if f > 0), default=0)
    chosen = {}
    for name, run in trained.items():
        within = [m for m in evaluations(run) if tokens(m, "sampled") <= budget]
        chosen[name] = within[-1] if within else None
    return budget, chosen


def paired_difference(run: RunDir, metrics: dict, reference: RunDir, reference_metrics: dict, k: str) -> str:
    """pass@k(run) − pass@k(reference) in points, with its 95% paired bootstrap interval; "*" when it excludes 0."""
    ours, theirs = per_problem(run, metrics["epoch"], k), per_problem(reference, reference_metrics["epoch"], k)
    if not ours or not theirs or not set(ours) & set(theirs):
        return "–"
    shared = sorted(set(ours) & set(theirs))
    gaps = [ours[p] - theirs[p] for p in shared]
    low, high = bootstrap_ci(gaps)
    clears = "*" if low > 0 or high < 0 else ""
    return f"{100 * np.mean(gaps):+.1f} [{100 * low:+.0f}, {100 * high:+.0f}]{clears}"


def equal_budget_table(runs: dict[str, RunDir], at: tuple[str, ...] = KS) -> str:
    budget, chosen = equal_budget(runs)
    reference = runs.get(REFERENCE)
    reference_metrics = chosen.get(REFERENCE)
    lines = [f"Budget: {budget:,} sampled tokens (the smallest total any sampling method reached).\n",
             "| method | epoch | sampled tokens | " + " | ".join(f"pass@{k}" for k in at) + " | "
             + " | ".join(f"Δ pass@{k} vs {REFERENCE}" for k in at) + " |", "|" + "---|" * (3 + 2 * len(at))]
    for name, m in chosen.items():
        if m is None:
            lines.append(f"| {name} | – | first evaluation past the budget |" + " |" * (2 * len(at) - 1))
            continue
        run = runs[name]
        note = " (samples nothing)" if tokens(m, "sampled") == 0 else ""
        gaps = [paired_difference(run, m, reference, reference_metrics, k) if reference_metrics and name != REFERENCE
                else "–" for k in at]
        lines.append(f"| {name}{note} | {m['epoch']} | {tokens(m, 'sampled'):,} | "
                     + " | ".join(cell(run, m, k) for k in at) + " | " + " | ".join(gaps) + " |")
    return "\n".join(lines) + "\n"


def plot(runs: dict[str, RunDir], at: tuple[str, ...] = KS):
    """pass@k against sampled + trained tokens, one panel per k; the start is each curve's first point."""
    fig, axes = plt.subplots(1, len(at), figsize=(4 * len(at), 3.6))
    start = runs.get("start")
    for i, (name, run) in enumerate((n, r) for n, r in runs.items() if n != "start"):
        points = ([evaluations(start)[-1] | {"compute": {}}] if start else []) + evaluations(run)
        spent = [tokens(m, "sampled") + tokens(m, "trained") for m in points]
        for ax, k in zip(axes, at):
            ax.plot(spent, [100 * m["test"].get("pass", {}).get(k, math.nan) for m in points], "-o", ms=3,
                    color=f"C{i}", label=name)
    for ax, k in zip(axes, at):
        ax.set(title=f"pass@{k}", xlabel="tokens spent (sampled + trained)", ylabel="%")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"pass@k-aware methods by compute spent, {source_note([r.meta() for r in runs.values()])}", fontsize=10)
    return fig


def write_passk_baselines(root: Path, runs: list[RunDir]) -> str:
    named = {method(run): run for run in runs}
    order = ["start", "CE", "GRPO", "DCO_a"]
    runs_in_order = {n: named[n] for n in sorted(named, key=lambda n: (order.index(n) if n in order else len(order), n))}
    at = ks(runs)
    save_figure(plot(runs_in_order, at), root / "passk_baselines.png")
    return ("# pass@k-aware methods on equal terms\n\n"
            f"Sampled pass@k on held-out problems in % with 95% bootstrap intervals over problems "
            f"({source_note([r.meta() for r in runs])}); tokens are cumulative training compute "
            "(src/utils/compute.py). Epoch 0 is the shared warm start.\n\n"
            f"## Per epoch\n\n{per_epoch_table(runs_in_order, at)}\n"
            f"## At equal sampled-token budget\n\n{equal_budget_table(runs_in_order, at)}\n"
            f"Δ: paired over the same problems, in points, 95% paired bootstrap interval; * = excludes 0 "
            "(test-set noise only, one seed per method).\n\n![pass@k by tokens spent](passk_baselines.png)\n")
