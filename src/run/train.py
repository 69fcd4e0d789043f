"""One training run from a composed config: seed → data → tokenizer/model → objective → Lightning fit
(evaluating after every epoch), leaving the run folder described in src/utils/run_dir.py, with a
status that tells the truth: `completed` only when every epoch has finite metrics; `diverged`,
`interrupted` (a signal: src/run/signals.py) or `failed` otherwise, with the reason in meta.json."""
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
from src.run.banner import start_banner
from src.run.base_model import with_base_model
from src.run.callbacks import Diverged, StopOnNonFinite, TakeTrainingBatches
from src.run.checkpoint_io import AtomicCheckpointIO
from src.run.folder import check_resumed_config, refuse_fresh_run
from src.run.loggers import build_logger, close_logger
from src.run.signals import Interrupted, StopOnSignal, requeue_slurm_job, slurm_requeued
from src.run.step_log import trim_step_log
from src.utils.io import atomic_write_text
from src.utils.run_dir import RunDir, evaluated_epochs, final_status
from src.utils.threads import torch_threads

log = logging.getLogger(__name__)


class RunStopped(Exception):
    """Training ended without completing; the run folder's meta.json says how (status, reason)."""

    def __init__(self, message: str, status: str = "failed"):
        super().__init__(message)
        self.status = status


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def train(cfg: DictConfig) -> dict:
    """Train and evaluate one configuration in `cfg.paths.run_dir`; returns the last epoch's metrics.
    Raises RunStopped when the run did not complete (after writing its status)."""
    cfg = with_base_model(cfg, fit=train)  # base_model set: model.pretrained is its cached folder (built when absent)
    run = RunDir(cfg.paths.run_dir)
    writer = rank_zero_only.rank == 0  # under DDP every process runs train(); rank 0 alone writes files
    resuming = bool(cfg.resume) or slurm_requeued()
    if resuming and not run.holds_a_run():  # e.g. a job of a resumed sweep that never started
        log.warning("resume: %s holds no run yet; starting one there", run.path)
        resuming = False
    if resuming:
        check_resumed_config(run, cfg)
        if run.completed and OmegaConf.load(run.config).trainer.max_epochs == cfg.trainer.max_epochs:
            log.info("%s already completed; nothing to resume", run.path)
            return run.metrics()[-1]
    elif writer:
        try:
            run.claim(status="running", started=now(), overrides=command_line_overrides())
        except FileExistsError:
            raise refuse_fresh_run(run) from None
    checkpoint, step = find_resume_checkpoint(run) if resuming else (None, 0)
    try:
        return fit(cfg, run, writer, checkpoint, step)
    except (Interrupted, Diverged, RunStopped) as stop:
        status = "interrupted" if isinstance(stop, Interrupted) else "diverged" if isinstance(stop, Diverged) \
            else run.meta().get("status")
        if writer:
            run.update_meta(status=status, reason=str(stop), finished=now())
            if isinstance(stop, Interrupted) and stop.signal == "SIGUSR1":
                requeue_slurm_job()
        raise RunStopped(f"{run.path}: {status}: {stop}" + (f"; continue it with resume={run.path}"
                                                            if status == "interrupted" else ""), status) from stop
    except BaseException as error:  # Ctrl-C before training started (no step boundary yet) is an interruption
        if writer:
            run.update_meta(status="interrupted" if isinstance(error, KeyboardInterrupt) else "failed",
                            reason=f"{type(error).__name__}: {error}", finished=now())
        raise


def fit(cfg: DictConfig, run: RunDir, writer: bool, checkpoint: Path | None, step: int) -> dict:
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
        trim_step_log(run.path / "logs" / "metrics.csv", before_step=step)  # replayed steps are logged again
        run.update_meta(
            status="running", started=run.meta().get("started", now()),
            resumed=run.meta().get("resumed", []) + ([now()] if checkpoint else []),
            experiment=cfg.experiment_name, seed=cfg.seed, resolved_source=splits.resolved_source,
            objective={"name": objective.name, **{k: v for k, v in cfg.objective.items() if k != "_target_"}},
            n_train=len(splits.train), n_test=len(splits.test),
            **({"base_model": cfg.model.pretrained} if cfg.get("base_model") else {}),
            parameters=sum(p.numel() for p in model.parameters()),
        )
    log.info(start_banner(cfg, splits, sum(p.numel() for p in model.parameters()),
                          f"objective: {objective.name}, {cfg.trainer.max_epochs} epochs"))
    evaluated = evaluated_epochs(cfg.trainer.max_epochs, cfg.trainer.get("check_val_every_n_epoch"),
                                 cfg.trainer.get("fast_dev_run"))
    if not cfg.trainer.get("fast_dev_run") and evaluated[-1:] != [cfg.trainer.max_epochs]:
        log.warning("trainer.max_epochs=%d is not a multiple of trainer.check_val_every_n_epoch=%d: the final "
                    "model is not evaluated (last evaluation: %s)", cfg.trainer.max_epochs,
                    cfg.trainer.check_val_every_n_epoch, f"epoch {evaluated[-1]}" if evaluated else "none")

    objective_tags = [objective.name] + [f"{k}={v}" for k, v in cfg.objective.items() if k != "_target_"]
    logger = build_logger(cfg, run, objective_tags)
    callbacks = [instantiate(callback) for callback in cfg.callbacks.values() if callback]  # conf/callbacks
    with StopOnSignal(run.checkpoints / "last.ckpt") as stop:
        trainer = instantiate(cfg.trainer, logger=logger, callbacks=[*callbacks, TakeTrainingBatches(),
                                                                     StopOnNonFinite(), stop],
                              default_root_dir=str(run.path), plugins=checkpoint_plugins(cfg))
        try:
            trainer.fit(module, datamodule=datamodule, ckpt_path=str(checkpoint) if checkpoint else None,
                        weights_only=True)
        except BaseException as error:
            if stop.received is not None and not isinstance(error, Interrupted):
                raise Interrupted(stop.received, trainer.global_step) from error  # e.g. Lightning's SIGTERM exit
            raise
        finally:
            close_logger(logger)
    metrics = run.metrics()
    if writer:
        status, reason = final_status(metrics, evaluated)
        run.update_meta(status=status, reason=reason, finished=now())
        if status != "completed":
            raise RunStopped(reason, status)
    return metrics[-1] if metrics else {}


def checkpoint_plugins(cfg: DictConfig) -> list:
    """Atomic checkpoint files, except where the strategy writes its own (sharded) checkpoints."""
    strategy = cfg.trainer.get("strategy") or "auto"
    own_checkpoints = not isinstance(strategy, str) or strategy.startswith(("fsdp", "deepspeed"))
    return [] if own_checkpoints else [AtomicCheckpointIO()]


def command_line_overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def find_resume_checkpoint(run: RunDir) -> tuple[Path | None, int]:
    """The checkpoint a resumed run continues from and its global step, after checking it can be read
    (as tensors and plain types only); (None, 0) when the run was killed before its first checkpoint
    (it then starts again from scratch, in the same folder)."""
    checkpoint = run.checkpoints / "last.ckpt"
    if not checkpoint.exists():
        log.warning("resume: %s has no checkpoint yet; training starts from scratch", run.path)
        return None, 0
    try:
        step = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)["global_step"]
    except Exception as error:
        raise RuntimeError(
            f"resume: checkpoint {checkpoint} is unreadable ({type(error).__name__}: {error}). Delete it to "
            f"restart the run from scratch, or copy another checkpoint of {run.checkpoints} over it.") from error
    log.info("resuming from %s (step %d)", checkpoint, step)
    return checkpoint, step
