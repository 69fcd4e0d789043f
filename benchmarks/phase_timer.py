"""A Lightning callback for timing any checkout's runs from outside: each epoch's seconds of training
and of evaluation (validation, grading and the run recorder included), appended to
`<trainer.default_root_dir>/phase_seconds.jsonl`. Added by override in benchmarks/evaluation.py."""
from __future__ import annotations

import json
import time
from pathlib import Path

import lightning.pytorch as pl


class PhaseTimer(pl.Callback):
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.started = time.perf_counter()

    def on_validation_start(self, trainer, pl_module) -> None:
        self.training = time.perf_counter() - self.started
        self.started = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        line = {"epoch": trainer.current_epoch + 1, "training": self.training,
                "evaluation": time.perf_counter() - self.started}
        with (Path(trainer.default_root_dir) / "phase_seconds.jsonl").open("a") as file:
            file.write(json.dumps(line) + "\n")
