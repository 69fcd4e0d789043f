"""The layout of one run's output folder — the only contract between runs and figures.

    <run>/config.yaml            resolved Hydra config
    <run>/meta.json              what ran (objective, data source, sizes) and `status`
    <run>/metrics.jsonl          one line of evaluation metrics per epoch
    <run>/eval/epoch_NNN.jsonl   per-problem rows (reference/greedy log p̂, correctness, samples)
    <run>/curves/*.png           the run's own figures
    <run>/checkpoints/           Lightning checkpoints (last.ckpt resumes)
    <run>/tokenizer/             the tokenizer the model was trained with
    <run>/model/                 the final model + tokenizer (`save_pretrained`; opens with
                                 `AutoModelForCausalLM.from_pretrained` and `python -m src.evaluate`)

`status` is "running" until training and evaluation finished, then "completed"; figures and reports
use only completed runs and name the ones they skipped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from src.utils.io import atomic_write_json, read_jsonl


@dataclass(frozen=True)
class RunDir:
    path: Path

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    config = property(lambda self: self.path / "config.yaml")
    meta_file = property(lambda self: self.path / "meta.json")
    metrics_file = property(lambda self: self.path / "metrics.jsonl")
    curves = property(lambda self: self.path / "curves")
    checkpoints = property(lambda self: self.path / "checkpoints")
    tokenizer = property(lambda self: self.path / "tokenizer")
    model = property(lambda self: self.path / "model")

    def eval_rows_file(self, epoch: int) -> Path:
        return self.path / "eval" / f"epoch_{epoch:03d}.jsonl"

    def meta(self) -> dict:
        return json.loads(self.meta_file.read_text()) if self.meta_file.exists() else {}

    def update_meta(self, **fields) -> None:
        atomic_write_json(self.meta_file, {**self.meta(), **fields})

    def metrics(self) -> list[dict]:
        return read_jsonl(self.metrics_file) if self.metrics_file.exists() else []

    def eval_rows(self, epoch: int) -> list[dict]:
        return read_jsonl(self.eval_rows_file(epoch))

    @property
    def completed(self) -> bool:
        return self.meta().get("status") == "completed"


def find_runs(root: str | Path) -> tuple[list[RunDir], list[RunDir]]:
    """All runs under `root` (recursively): (completed, not completed), sorted by path."""
    runs = sorted((RunDir(p.parent) for p in Path(root).rglob("meta.json")), key=lambda r: str(r.path))
    return [r for r in runs if r.completed], [r for r in runs if not r.completed]
