"""One training run from a composed config: seed → data → tokenizer/model → objective → Lightning fit
(evaluating after every epoch), leaving the run folder described in src/utils/run_dir.py."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import lightning.pytorch as pl
import torch
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from src.models.factory import build_model
from src.models.module import LanguageModelModule
from src.models.tokenizer import load_tokenizer
from src.run.base_model import with_base_model
from src.run.banner import start_banner
from src.run.loggers import build_logger, close_logger
from src.utils.io import atomic_write_text
from src.utils.run_dir import RunDir
from src.utils.threads import torch_threads

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict:
    """Train and evaluate one configuration in `cfg.paths.run_dir`; returns the last epoch's metrics."""
    cfg = with_base_model(cfg, fit=train)  # base_model set: model.pretrained is its cached folder (built when absent)
    run = RunDir(cfg.paths.run_dir)
    if cfg.resume and run.completed:
        log.info("%s already completed; nothing to resume", run.path)
        return run.metrics()[-1] if run.metrics() else {}
    checkpoint = find_resume_checkpoint(run) if cfg.resume else None
    writer = rank_zero_only.rank == 0  # under DDP every process runs train(); rank 0 alone writes files
    torch.set_num_threads(torch_threads(cfg.threads))
    log.info("torch CPU threads: %d (threads=%s)", torch.get_num_threads(), cfg.threads)
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    splits = datamodule.splits
    tokenizer = load_tokenizer(cfg.model.pretrained, datamodule.training_text(), cfg.model.vocab_size,
                               save_dir=run.tokenizer if writer else None,
                               split_digits=cfg.model.get("split_digits", False))
    datamodule.attach_tokenizer(tokenizer)
    model = build_model(tokenizer, pretrained=cfg.model.pretrained, dtype=cfg.model.dtype,
                        architecture=OmegaConf.to_container(cfg.model.architecture, resolve=True)
                        if cfg.model.architecture else None)
    objective = instantiate(cfg.objective)
    module = LanguageModelModule(
        model, tokenizer, objective,
        optimizer=instantiate(cfg.model.optimizer), scheduler=instantiate(cfg.model.scheduler),
        examples_per_step=cfg.data.batch_size, evaluator=instantiate(cfg.evaluation, _convert_="all"),
        # on-policy objectives (GRPO, DCO_a) bring their sampling glue as a top-level `rollout` node
        rollout=instantiate(cfg.rollout, _convert_="all") if cfg.get("rollout") else None,
    )

    if writer:
        atomic_write_text(run.config, OmegaConf.to_yaml(cfg, resolve=True))
        now = dt.datetime.now().isoformat(timespec="seconds")
        run.update_meta(
            status="running", started=run.meta().get("started", now),
            resumed=run.meta().get("resumed", []) + ([now] if checkpoint else []),
            experiment=cfg.experiment_name, seed=cfg.seed, resolved_source=splits.resolved_source,
            objective={"name": objective.name, **{k: v for k, v in cfg.objective.items() if k != "_target_"}},
            n_train=len(splits.train), n_test=len(splits.test),
            **({"base_model": cfg.model.pretrained} if cfg.get("base_model") else {}),
            parameters=sum(p.numel() for p in model.parameters()),
        )
    log.info(start_banner(cfg, splits, sum(p.numel() for p in model.parameters()),
                          f"objective: {objective.name}, {cfg.trainer.max_epochs} epochs"))

    objective_tags = [objective.name] + [f"{k}={v}" for k, v in cfg.objective.items() if k != "_target_"]
    logger = build_logger(cfg, run, objective_tags)
    callbacks = [instantiate(callback) for callback in cfg.callbacks.values() if callback]  # conf/callbacks
    trainer = instantiate(cfg.trainer, logger=logger, callbacks=callbacks, default_root_dir=str(run.path))
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(checkpoint) if checkpoint else None)
    finally:
        close_logger(logger)
    metrics = run.metrics()
    return metrics[-1] if metrics else {}


def find_resume_checkpoint(run: RunDir) -> Path | None:
    """The checkpoint a resumed run continues from, after checking it can be read; None when the run
    was killed before its first checkpoint (it then starts again from scratch, in the same folder)."""
    checkpoint = run.checkpoints / "last.ckpt"
    if not checkpoint.exists():
        log.warning("resume: %s has no checkpoint yet; training starts from scratch", run.path)
        return None
    try:
        torch.load(checkpoint, map_location="cpu", weights_only=False, mmap=True)
    except Exception as error:
        raise RuntimeError(
            f"resume: checkpoint {checkpoint} is unreadable ({type(error).__name__}: {error}). Delete it to "
            f"restart the run from scratch, or copy another checkpoint of {run.checkpoints} over it.") from error
    log.info("resuming from %s", checkpoint)
    return checkpoint
