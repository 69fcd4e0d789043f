"""Entry point: `python -m src.run experiment=math_passn [overrides]`.

Composes conf/, seeds everything, builds data → tokenizer/model → objective, fits with Lightning
(evaluating after every epoch) and leaves the run folder described in src/utils/run_dir.py.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import hydra
import lightning.pytorch as pl
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from src.callbacks import RefillCallback, RunRecorder, WandbMedia
from src.loggers import build_logger, close_logger
from src.models.factory import build_model
from src.models.module import LanguageModelModule
from src.models.tokenizer import load_tokenizer
from src.utils.io import atomic_write_text
from src.utils.run_dir import RunDir

log = logging.getLogger(__name__)


def train(cfg: DictConfig, run_dir: str | Path) -> dict:
    """Train and evaluate one configuration; returns the last epoch's metrics."""
    run = RunDir(run_dir)
    writer = rank_zero_only.rank == 0  # under DDP every process runs train(); rank 0 alone writes files
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    splits = datamodule.splits
    tokenizer = load_tokenizer(cfg.model.pretrained, datamodule.training_text(), cfg.model.vocab_size,
                               save_dir=run.tokenizer if writer else None)
    datamodule.attach_tokenizer(tokenizer)
    model = build_model(tokenizer, pretrained=cfg.model.pretrained, dtype=cfg.model.dtype,
                        architecture=OmegaConf.to_container(cfg.model.architecture, resolve=True)
                        if cfg.model.architecture else None)
    objective = instantiate(cfg.objective)
    module = LanguageModelModule(
        model, tokenizer, objective,
        optimizer=instantiate(cfg.model.optimizer), scheduler=instantiate(cfg.model.scheduler),
        examples_per_step=cfg.data.batch_size, evaluator=instantiate(cfg.evaluation, _convert_="all"),
    )

    if writer:
        atomic_write_text(run.config, OmegaConf.to_yaml(cfg, resolve=True))
        run.update_meta(
            status="running", started=dt.datetime.now().isoformat(timespec="seconds"),
            experiment=cfg.experiment_name, seed=cfg.seed, resolved_source=splits.resolved_source,
            objective={"name": objective.name, **{k: v for k, v in cfg.objective.items() if k != "_target_"}},
            n_train=len(splits.train), n_test=len(splits.test),
            parameters=sum(p.numel() for p in model.parameters()),
        )
    log.info("data: %s (%d train / %d test) · model: %.2fM parameters · objective: %s",
             splits.resolved_source, len(splits.train), len(splits.test),
             sum(p.numel() for p in model.parameters()) / 1e6, objective.name)

    objective_tags = [objective.name] + [f"{k}={v}" for k, v in cfg.objective.items() if k != "_target_"]
    logger = build_logger(cfg.logger, run, objective_tags)
    callbacks = [RefillCallback(), RunRecorder(str(run.path)),
                 pl.callbacks.ModelCheckpoint(dirpath=run.checkpoints, save_last=True, save_top_k=1)]
    if type(logger).__name__ == "WandbLogger":
        callbacks.append(WandbMedia(str(run.path)))
    trainer = instantiate(cfg.trainer, logger=logger, callbacks=callbacks, default_root_dir=str(run.path))
    ckpt = run.checkpoints / "last.ckpt" if cfg.resume else None
    if ckpt is not None and not ckpt.exists():
        raise FileNotFoundError(f"resume=true but {ckpt} does not exist; set hydra.run.dir to the run to resume")
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(ckpt) if ckpt else None)
    finally:
        close_logger(logger)
    metrics = run.metrics()
    return metrics[-1] if metrics else {}


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    if cfg.task == "theory":  # the experiment's report callback draws everything
        return None
    if cfg.task != "train":
        raise ValueError(f"task={cfg.task!r}; accepted: ['train', 'theory']")
    metrics = train(cfg, cfg.paths.run_dir)
    return metrics.get("test", {}).get("coverage", {}).get(str(cfg.optimized_n)) if metrics else None


if __name__ == "__main__":
    main()
