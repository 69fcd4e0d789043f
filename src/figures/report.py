"""An experiment's report, drawn from its run folders: the one place reports are dispatched.

Each experiment names its report in its config (conf/experiment/*.yaml):

    report:
      _target_: src.figures.fig2_pareto.write_fig2   # (root, runs) -> markdown, or (root) if it needs no runs
      analysis: src.evaluation.proof_comparisons.ensemble_analysis   # optional: (root, runs), writes files first

Targets are looked up, never instantiated, and only inside the allowed packages below: a
`config.yaml` read back from a run folder cannot make a report run arbitrary code.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path

from hydra.utils import get_method

from src.utils.io import atomic_write_text
from src.utils.run_dir import RunDir, find_runs

DEFAULT = {"_target_": "src.figures.comparison.comparison_markdown"}
ALLOWED = {"_target_": "src.figures.", "analysis": "src.evaluation."}  # spec key → package its target must be in


def report_function(spec: Mapping, key: str):
    """The function `spec[key]` names, after checking it lies in the package allowed for `key`."""
    target = str(spec[key])
    if not target.startswith(ALLOWED[key]):
        raise ValueError(f"report.{key}={target!r}: report {key}s must be functions in {ALLOWED[key]}*")
    return get_method(target)


def draw_report(root: str | Path, spec: Mapping | None = None) -> Path:
    """Write `<root>/report.md` (and its figures) from the runs under `root`; every run that did not
    complete (or never started) is listed at the end, with its status and reason."""
    root, spec = Path(root), spec or DEFAULT
    done, unfinished = find_runs(root)
    done = [run for run in done if run.metrics()]
    write = report_function(spec, "_target_")
    needs_runs = "runs" in inspect.signature(write).parameters
    if needs_runs and not done:
        raise SystemExit(f"no completed run under {root}" + (f" ({len(unfinished)} unfinished)" if unfinished else ""))
    if spec.get("analysis"):
        report_function(spec, "analysis")(root, done)
    body = write(root, done) if needs_runs else write(root)
    atomic_write_text(root / "report.md", body + runs_left_out(root, unfinished))
    return root / "report.md"


def runs_left_out(root: Path, runs: list[RunDir]) -> str:
    if not runs:
        return ""
    lines = "".join(f"- `{run.path.relative_to(root)}`: {run.status}\n" for run in runs)
    return "\n## Runs left out (not completed)\n\n" + lines
