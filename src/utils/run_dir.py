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

`status` (meta.json) says what the folder holds; figures and reports use only `completed` runs and
list every other run folder with its status and reason (docs/reliability.md):

    running      training (or killed by SIGKILL / a crash of the machine: resume it)
    completed    every epoch evaluated, every metric finite
    diverged     a training loss or an evaluation metric went non-finite (`reason` says where)
    interrupted  stopped by SIGTERM, SIGINT or SIGUSR1 at a step boundary (resume it)
    failed       an error (`reason`), or epochs missing from metrics.jsonl

A folder belongs to one resolved config: a fresh run claims an empty folder (`claim`), a resumed
run must bring the same config (src/run/folder.py).
"""
from __future__ import annotations

import json
import math
import os
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

    @property
    def status(self) -> str:
        """The status with its reason, or why there is none (a job that died before training)."""
        meta = self.meta()
        if not meta:
            return "not started (no meta.json: the job failed before training, see its .hydra/ and log)"
        return meta.get("status", "no status") + (f": {meta['reason']}" if meta.get("reason") else "")

    def holds_a_run(self) -> bool:
        return any(p.exists() for p in (self.meta_file, self.config, self.metrics_file, self.checkpoints))

    def claim(self, **meta) -> None:
        """Start a fresh run here: create meta.json, refusing a folder that already holds a run (also
        when another run claims it at the same moment: creating the file is exclusive)."""
        if self.holds_a_run():
            raise FileExistsError(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.meta_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, sort_keys=True)


STATUSES = ("running", "completed", "diverged", "interrupted", "failed")


def first_non_finite(value, where: str = "") -> str | None:
    """The key path of the first NaN/inf number inside nested dicts/lists, else None."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return where if isinstance(value, float) and not math.isfinite(value) else None
    for key, item in items:
        found = first_non_finite(item, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def evaluated_epochs(max_epochs: int, check_val_every_n_epoch: int | None = 1, fast_dev_run=False) -> list[int]:
    """The epochs (1-based) after which a run of these trainer settings evaluates."""
    if fast_dev_run:
        return [1]
    every = check_val_every_n_epoch or 1
    return [epoch for epoch in range(1, max_epochs + 1) if epoch % every == 0]


def final_status(metrics: list[dict], epochs: list[int]) -> tuple[str, str | None]:
    """The status of a run whose training loop ended normally, given the epochs it evaluates after:
    `completed` only with one line of finite metrics for each of them."""
    missing = sorted(set(epochs) - {m["epoch"] for m in metrics})
    if missing:
        return "failed", f"epochs {missing} are missing from metrics.jsonl (expected {epochs})"
    for m in metrics:
        bad = first_non_finite(m)
        if bad:
            return "diverged", f"epoch {m['epoch']}: {bad} is not finite"
    return "completed", None


def find_runs(root: str | Path) -> tuple[list[RunDir], list[RunDir]]:
    """All runs under `root` (recursively): (completed, not completed), sorted by path. A run is a
    folder with a meta.json, or a Hydra job folder (.hydra/) below `root` whose job never wrote one."""
    root = Path(root)
    folders = {p.parent for p in root.rglob("meta.json")} | {p.parent for p in root.rglob(".hydra") if p.parent != root}
    runs = sorted((RunDir(p) for p in folders), key=lambda r: str(r.path))
    return [r for r in runs if r.completed], [r for r in runs if not r.completed]
