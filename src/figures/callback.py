"""Hydra callback: when an experiment's sweep (or single run) ends, draw its report."""
from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class ExperimentReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._write(Path(config.hydra.sweep.dir), config.get("experiment_name"))

    def on_run_end(self, config: DictConfig, **kwargs) -> None:
        self._write(Path(config.hydra.run.dir), config.get("experiment_name"))

    @staticmethod
    def _write(root: Path, experiment: str | None) -> None:
        from src.report import write_report  # imported late: keeps Hydra start-up light

        report = write_report(root, experiment)
        log.info("report written: %s", report)
        print(report.read_text())
