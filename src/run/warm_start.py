"""Hydra callback: before a sweep starts, train the one model every run of the sweep fine-tunes.

Table 3 compares CE, GRPO and DCO_a fine-tuning a *base model* (Llama-3-8B in the paper) that can
already solve some problems. A tiny model trained from scratch has no such base, and GRPO cannot
learn from a model that is never right, so at laptop scale the sweep first trains its own start:
CE on the training solutions for `epochs` epochs at learning rate `lr` (default: the sweep's), in
<sweep>/warm_start/ (an ordinary run folder, evaluated once at its end), exported as a Hugging Face
model folder <sweep>/warm_start/model that every run loads through
`model.pretrained: ${hydra:sweep.dir}/warm_start/model`. A sweep folder that already holds the model
(a resumed sweep) reuses it; runs that load another model (scale=paper_cot: the hub's base model)
need no warm start, and none is trained.
"""
from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

FOLDER = "warm_start"  # inside the sweep folder; reports read it as the runs' epoch 0
CROSS_ENTROPY = {"_target_": "src.objectives.cross_entropy.CrossEntropy"}

log = logging.getLogger(__name__)


def warm_start_config(config: DictConfig, run_dir: Path, epochs: int, lr: float | None = None) -> DictConfig:
    """The sweep's config as one CE run from scratch: no hub checkpoint, no rollout."""
    cfg = OmegaConf.create(OmegaConf.to_container(config, resolve=False))
    with open_dict(cfg):
        cfg.pop("hydra", None)
        cfg.rollout = None
        cfg.paths.run_dir = str(run_dir)
        cfg.resume = None
        cfg.model.pretrained = None
        cfg.objective = dict(CROSS_ENTROPY)
        cfg.trainer.max_epochs = epochs
        cfg.trainer.check_val_every_n_epoch = epochs  # evaluate the start once, when it is done
        if lr is not None:
            cfg.model.optimizer.lr = lr
    return cfg


class WarmStart(Callback):
    def __init__(self, epochs: int, lr: float | None = None):
        if epochs < 1:
            raise ValueError(f"warm_start.epochs must be >= 1, got {epochs}")
        self.epochs, self.lr = epochs, lr

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        from src.run.train import train  # imported late: keeps Hydra start-up light
        from src.utils.run_dir import RunDir

        run = RunDir(Path(config.hydra.sweep.dir) / FOLDER)
        export = run.path / "model"
        loads = OmegaConf.to_container(config.model, resolve=False)["pretrained"]  # `hydra:` is not resolvable yet
        if f"{FOLDER}/model" not in str(loads):
            log.info("warm start: the runs load %s, not %s; nothing to train", loads, export)
            return
        if (export / "config.json").exists():
            log.info("warm start: reusing %s", export)
            return
        log.info("warm start: CE for %d epochs into %s", self.epochs, run.path)
        try:  # Hydra would turn an exception here into a warning and start every job without its model
            train(warm_start_config(config, run.path, self.epochs, self.lr))
        except Exception as error:
            raise SystemExit(f"warm start failed in {run.path}: {type(error).__name__}: {error}") from error
        if not (export / "config.json").exists():  # written by the run's ExportModel callback
            raise SystemExit(f"warm start: {run.path} finished without {export}; is callbacks.export off?")
        run.update_meta(role="warm_start")
