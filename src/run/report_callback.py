"""Hydra callback: when a sweep ends, draw the experiment's report in the sweep folder — also when
some jobs failed or were interrupted (they are listed in it) — and exit non-zero if any job did not
complete. (Hydra turns a callback's exceptions into warnings, so the failure is a SystemExit.)"""
from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from src.figures.report import draw_report  # imported late: keeps Hydra start-up light
        from src.utils.run_dir import find_runs

        root = Path(config.hydra.sweep.dir)
        report = None
        if config.get("report") is not None:
            try:
                report = draw_report(root, config.report)
                log.info("report written: %s", report)
                print(report.read_text())
                print(f"report: {report}")
            except SystemExit as error:  # no run completed: still say which jobs failed, below
                log.error("%s", error)
        print(f"sweep folder: {root}")
        _, left_out = find_runs(root)
        if left_out:
            names = ", ".join(f"{run.path.name} ({run.status})" for run in left_out)
            raise SystemExit(f"sweep {root}: {len(left_out)} job(s) did not complete: {names}"
                             + (f"; see {report}" if report else ""))
