"""Experiment loggers from config, with what only the run knows: W&B run id, name and tags."""
from __future__ import annotations

import secrets

from hydra.utils import instantiate
from omegaconf import DictConfig

from src.utils.run_dir import RunDir


def build_logger(cfg: DictConfig, run: RunDir, objective_tags: list[str]):
    """The configured logger. For W&B the run id is kept in meta.json, so a resumed run continues
    the same W&B run instead of starting a new one."""
    if not cfg._target_.endswith("WandbLogger"):
        return instantiate(cfg)
    try:
        import wandb  # noqa: F401
    except ImportError as e:
        raise ImportError("logger=wandb needs the wandb package: pip install -e '.[wandb]'") from e
    run_id = run.meta().get("wandb_id") or secrets.token_hex(4)
    run.update_meta(wandb_id=run_id)
    return instantiate(cfg, id=run_id, name=run.path.name, tags=objective_tags, resume="allow")


def close_logger(logger) -> None:
    """Flush and close a W&B run, so each job of a multirun is a complete run of its own."""
    if type(logger).__name__ == "WandbLogger":
        logger.experiment.finish()
