"""Step-level training curves as CSV (<run>/logs/metrics.csv) that survive a resume.

Lightning's `CSVLogger` deletes an existing metrics.csv when it starts, so resuming a run erased the
steps logged before the kill. `StepCSVLogger` appends instead; `trim_step_log` first drops the rows
logged after the checkpoint the run resumes from (they are logged again when those steps are replayed).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment

from src.utils.io import atomic_write_text


class _AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:  # Lightning's version deletes metrics.csv
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = next(csv.reader(file), [])


class StepCSVLogger(CSVLogger):
    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


def trim_step_log(path: str | Path, before_step: int) -> None:
    """Keep the rows of `path` logged before `before_step` (a resumed run replays the steps after)."""
    path = Path(path)
    if not path.exists():
        return
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        fields, rows = reader.fieldnames or [], [r for r in reader if int(float(r["step"])) < before_step]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue())
