"""Hydra callback: when a sweep ends, draw the experiment's report in the sweep folder."""
from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if config.get("report") is None:
            return
        from src.figures.report import draw_report  # imported late: keeps Hydra start-up light

        report = draw_report(Path(config.hydra.sweep.dir), config.report)
        log.info("report written: %s", report)
        print(report.read_text())
