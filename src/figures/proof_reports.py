"""Reports of the theorem-proving experiments (named by their configs' `report:`):

- proof_dco_step: solved fraction by reference proof length for each N_eff;
- proof_ensemble: that, plus the ensemble of all runs against each run alone at equal budget;
- proof_tree_shapes: that, plus every run searched with every shape in the config's `tree_shapes`.

The last two read `ensemble.json` / `tree_shapes.json`, which their `report.analysis` step
(src/evaluation/proof_comparisons.py) wrote next to the runs from the runs' checkpoints.
"""
from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from src.evaluation.proof_comparisons import proof_label
from src.figures.plotting import save_figure, source_note
from src.figures.proofs import (
    ensemble_table,
    plot_ensemble,
    plot_solved_by_length,
    plot_tree_shapes,
    solved_by_length_table,
    tree_shapes_table,
)
from src.utils.run_dir import RunDir


def write_proof_lengths(root: Path, runs: list[RunDir]) -> str:
    save_figure(plot_solved_by_length(runs), root / "solved_by_length.png")
    search = OmegaConf.load(runs[0].config).evaluation.search
    return (f"# Theorem proving: solved by proof length — {source_note([r.meta() for r in runs])}\n\n"
            f"Held-out theorems solved (%) by {search.strategy} search at a budget of {search.budget} "
            "tactic samples, final epoch, overall and by the length of the reference (shortest) proof.\n\n"
            f"{solved_by_length_table(runs)}\n{short_long_summary(runs)}\n"
            "![solved by length](solved_by_length.png)\n")


def short_long_summary(runs: list[RunDir]) -> str:
    """Solved fraction on the shorter and the longer half of the reference lengths, per model."""
    rows = {proof_label(r.meta()): r.eval_rows(r.metrics()[-1]["epoch"]) for r in runs}
    lengths = sorted({row["reference_length"] for rs in rows.values() for row in rs} - {None})
    if len(lengths) < 2:
        return ""
    half = len(lengths) // 2  # an odd middle length belongs to neither
    short, long = lengths[:half], lengths[-half:]

    def solved(rs, keep):
        chosen = [r["solved"] for r in rs if r["reference_length"] in keep]
        return f"{100 * sum(chosen) / len(chosen):.1f} ({sum(chosen)}/{len(chosen)})" if chosen else "–"

    lines = [f"| model | short proofs (length {short[0]}–{short[-1]}) | long proofs (length {long[0]}–{long[-1]}) |",
             "|---|---|---|"]
    lines += [f"| {name} | {solved(rs, short)} | {solved(rs, long)} |" for name, rs in rows.items()]
    return "\n".join(lines) + "\n"


def write_proof_ensemble(root: Path, runs: list[RunDir]) -> str:
    result = read_result(root / "ensemble.json")
    save_figure(plot_ensemble(result), root / "ensemble.png")
    best = max(result["single"], key=lambda name: result["single"][name]["pass@budget"])
    ensemble, single = result["ensemble"]["pass@budget"], result["single"][best]["pass@budget"]
    verdict = "beats" if ensemble > single else "ties" if ensemble == single else "loses to"
    return (write_proof_lengths(root, runs)
            + f"\n## Ensemble vs single models at equal budget ({result['budget']} tactic samples)\n\n"
            f"The ensemble of {len(result['single'])} models (each searching with {min(result['shares'].values())}"
            f" of the {result['budget']} samples; solved if any member solves) {verdict} the best single model, "
            f"{best}, searching with all {result['budget']}: "
            f"{100 * ensemble:.1f}% vs {100 * single:.1f}%.\n\n{ensemble_table(result)}\n![ensemble](ensemble.png)\n")


def write_tree_shapes(root: Path, runs: list[RunDir]) -> str:
    shapes = OmegaConf.to_container(OmegaConf.load(runs[0].config).get("tree_shapes") or {})
    result = read_result(root / "tree_shapes.json")
    save_figure(plot_tree_shapes(result), root / "tree_shapes.png")
    budget = OmegaConf.load(runs[0].config).evaluation.search.budget
    return (write_proof_lengths(root, runs)
            + f"\n## Search tree shapes (budget {budget} unless the shape says)\n\n"
            f"Held-out theorems solved (%), each model under each search.\n\n{tree_shapes_table(result, shapes)}\n"
            "![tree shapes](tree_shapes.png)\n")


def read_result(path: Path) -> dict:
    """The stored result of a comparison (`{"key": …, "result": …}`, src/evaluation/proof_comparisons.py)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: its experiment's report.analysis step writes it "
                                "(python -m src.report <sweep> --experiment proof_ensemble|proof_tree_shapes)")
    return json.loads(path.read_text())["result"]
