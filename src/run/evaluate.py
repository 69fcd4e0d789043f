"""One evaluation run: any causal LM (a hub id, a `save_pretrained` folder or a run folder) through
the training runs' MathEvaluator, via `trainer.validate`, into a run folder of the same layout
(src/utils/run_dir.py) with `job_type: evaluate` in meta.json and the evaluation as epoch 0."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import lightning.pytorch as pl
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from src.models.checkpoint import load_run_model
from src.models.factory import build_model
from src.models.module import LanguageModelModule
from src.models.tokenizer import load_tokenizer
from src.run.banner import start_banner
from src.run.callbacks import RunRecorder
from src.utils.io import atomic_write_text
from src.utils.run_dir import RunDir

log = logging.getLogger(__name__)


def load_model(pretrained: str | None, dtype: str):
    """(model, tokenizer, where they came from) for a run folder (its exported model/, else its
    last checkpoint), a `save_pretrained` folder or a hub id."""
    if not pretrained:
        raise ValueError("model.pretrained is not set: give a hub id, a save_pretrained folder or a run folder, "
                         "e.g. python -m src.evaluate model.pretrained=outputs/math_passn/<time>/0_cross_entropy")
    path = Path(pretrained).expanduser()
    if (path / "meta.json").is_file():  # a run folder
        run = RunDir(path)
        if not (run.model / "config.json").is_file():
            log.warning("%s has no model/ export: loading checkpoints/last.ckpt", path)
            model, tokenizer, _ = load_run_model(run)
            return model, tokenizer, f"run:{path.resolve()} (checkpoints/last.ckpt)"
        path = run.model
    if path.exists() and not (path / "config.json").is_file():
        raise FileNotFoundError(f"model.pretrained={pretrained}: {path} is neither a save_pretrained folder "
                                f"(config.json) nor a run folder (meta.json)")
    name = str(path.resolve()) if path.exists() else pretrained  # a folder, else a hub id
    tokenizer = load_tokenizer(name, texts=(), vocab_size=0)
    return build_model(tokenizer, pretrained=name, dtype=dtype), tokenizer, name


def evaluate(cfg: DictConfig) -> dict:
    """Evaluate `cfg.model.pretrained` on `cfg.data`'s test problems; returns the metrics (rank 0)."""
    run = RunDir(cfg.paths.run_dir)
    pl.seed_everything(cfg.seed, workers=True)
    model, tokenizer, model_source = load_model(cfg.model.pretrained, cfg.model.dtype)
    datamodule = instantiate(cfg.data)
    datamodule.attach_tokenizer(tokenizer)
    splits = datamodule.splits
    module = LanguageModelModule(model, tokenizer, objective=None, optimizer=None, scheduler=None,
                                 examples_per_step=cfg.data.batch_size,
                                 evaluator=instantiate(cfg.evaluation, _convert_="all"))
    parameters = sum(p.numel() for p in model.parameters())
    writer = rank_zero_only.rank == 0  # under DDP every process runs this; rank 0 alone writes files
    if writer:
        atomic_write_text(run.config, OmegaConf.to_yaml(cfg, resolve=True))
        run.update_meta(status="running", job_type="evaluate", experiment=cfg.experiment_name, seed=cfg.seed,
                        started=dt.datetime.now().isoformat(timespec="seconds"), model=model_source,
                        resolved_source=splits.resolved_source, n_train=len(splits.train),
                        n_test=len(splits.test), parameters=parameters)
    log.info(start_banner(cfg, splits, parameters, f"evaluating {model_source}"))
    trainer = instantiate(cfg.trainer, logger=False, callbacks=[RunRecorder(str(run.path))],
                          default_root_dir=str(run.path))
    trainer.validate(module, datamodule=datamodule)
    if not writer:
        return {}
    run.update_meta(status="completed", finished=dt.datetime.now().isoformat(timespec="seconds"))
    return run.metrics()[-1]
