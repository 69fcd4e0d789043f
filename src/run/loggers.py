"""Experiment loggers from config, with what only the run knows: for W&B the run id (kept in
meta.json, so a resumed run continues its W&B run), the full resolved config, a name that carries
what the sweep varies, the sweep as group, the job type, and the objective's tags beside the user's."""
from __future__ import annotations

import logging
import secrets

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.run.names import current_run_name, sweep_group
from src.utils.run_dir import RunDir

log = logging.getLogger(__name__)


def build_logger(cfg: DictConfig, run: RunDir, objective_tags: list[str], job_type: str = "train"):
    """The logger of `cfg.logger`; `cfg` is the whole run config (W&B keeps all of it, resolved)."""
    logger_cfg = cfg.logger
    if not logger_cfg._target_.endswith("WandbLogger"):
        return instantiate(logger_cfg)
    try:
        import wandb  # noqa: F401
    except ImportError as e:
        raise ImportError("logger=wandb needs the wandb package: pip install -e '.[wandb]'") from e
    run_id = run.meta().get("wandb_id") or secrets.token_hex(4)
    run.update_meta(wandb_id=run_id)
    user_tags = list(logger_cfg.get("tags") or [])
    wandb_logger = instantiate(logger_cfg, _partial_=True)  # partial: instantiate's own first argument is `config`
    return wandb_logger(
        id=run_id, resume="allow", job_type=job_type,
        name=logger_cfg.get("name") or current_run_name(fallback=run.path.name),
        group=logger_cfg.get("group") or sweep_group(cfg.experiment_name, run.path),
        tags=list(dict.fromkeys(objective_tags + user_tags)),
        config=OmegaConf.to_container(cfg, resolve=True),
    )


def close_logger(logger) -> str | None:
    """Flush and close a W&B run, so each job of a multirun is a complete run of its own; returns (and
    prints) where the run is: its W&B page, or the offline folder to `wandb sync`."""
    if type(logger).__name__ != "WandbLogger":
        return None
    experiment = logger.experiment
    where = (f"W&B run: {experiment.url}" if not experiment.offline
             else f"W&B offline run: {experiment.dir.removesuffix('/files')} (upload: wandb sync <that folder>)")
    experiment.finish()
    print(where)
    return where
