"""Rebuild an experiment's figures and report from its run folders, without retraining.

    python -m src.report outputs/<experiment>/<time>

Runs are found recursively (folders with meta.json); only completed ones are used, the others are
named in the report. Which report is drawn follows the runs' `experiment` (see REPORTS).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from src.figures.comparison import comparison_markdown
from src.figures.fig1_confidence import write_fig1
from src.figures.fig2_pareto import write_fig2
from src.figures.table1 import write_table1
from src.figures.table3 import write_table3
from src.figures.theory_figures import write_theory
from src.proof_reports import write_proof_ensemble, write_proof_lengths, write_tree_shapes
from src.utils.io import atomic_write_text
from src.utils.run_dir import RunDir, find_runs

# experiment name → function(root, completed runs) → markdown; anything else gets the comparison.
REPORTS: dict[str, Callable[[Path, list[RunDir]], str]] = {
    "table1_ce_epochs": write_table1,
    "table3_cot": write_table3,
    "table3_cot_paper": write_table3,
    "fig1_confidence": write_fig1,
    "fig2_pareto": write_fig2,
    "fig_confidence_factor": write_theory,
    "theory": write_theory,
    "proof_dco_step": write_proof_lengths,
    "proof_ensemble": write_proof_ensemble,
    "proof_tree_shapes": write_tree_shapes,
}


def write_report(root: str | Path, experiment: str | None = None) -> Path:
    root = Path(root)
    done, unfinished = find_runs(root)
    done = [r for r in done if r.metrics()]
    experiment = experiment or next((r.meta().get("experiment") for r in done), None)
    if not done and experiment not in ("theory", "fig_confidence_factor"):
        raise SystemExit(f"no completed run under {root}" + (f" ({len(unfinished)} unfinished)" if unfinished else ""))
    body = REPORTS.get(experiment, comparison_markdown)(root, done)
    skipped = "".join(f"- skipped, not completed: `{r.path.relative_to(root)}`\n" for r in unfinished)
    report = root / "report.md"
    atomic_write_text(report, body + ("\n## Runs left out\n\n" + skipped if skipped else ""))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", help="a sweep folder (outputs/<experiment>/<time>) or a run folder")
    parser.add_argument("--experiment", help="which report to draw (default: from the runs' meta.json)")
    args = parser.parse_args(argv)
    print(write_report(args.root, args.experiment).read_text())


if __name__ == "__main__":
    main()
