"""Hydra callback: when a sweep (or a single run) ends, draw its runs side by side."""
from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from src.figures.comparison import write_comparison

log = logging.getLogger(__name__)


class ComparisonReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._write(Path(config.hydra.sweep.dir))

    def on_run_end(self, config: DictConfig, **kwargs) -> None:
        self._write(Path(config.hydra.run.dir))

    @staticmethod
    def _write(root: Path) -> None:
        report = write_comparison(root)
        if report:
            log.info("comparison written: %s", report)
            print(report.read_text())
