"""Hydra callback: when a sweep ends, draw the experiment's report in the sweep folder, and say where
the sweep's results are."""
from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep = Path(config.hydra.sweep.dir)
        if config.get("report") is not None:
            from src.figures.report import draw_report  # imported late: keeps Hydra start-up light

            report = draw_report(sweep, config.report)
            log.info("report written: %s", report)
            print(report.read_text())
            print(f"report: {report}")
        print(f"sweep folder: {sweep}")
