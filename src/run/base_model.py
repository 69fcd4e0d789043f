"""The base model a fine-tuning run starts from, as the paper's runs start from a pretrained Llama.

`base_model: builtin` (conf/base_model/) pretrains the model group's architecture with CE on a broad
built-in corpus — every generator family and level, as worked solutions or as answers, never one of
the run's held-out problems — and `base_model: math_solutions` on the run's own training split as
worked solutions (real MATH); fine-tuning then loads it through `model.pretrained`. The model is
built once and cached under `<cache_dir>/<key>/` (a `save_pretrained` folder, with the pretraining
run beside it in `<key>/run/`), where the key hashes everything that shapes it: the corpus text, the
architecture and tokenizer settings, the pretraining settings and the seed. A run whose key is
cached reuses the folder; any change builds a new one; a build killed half-way leaves only a
`.partial` folder, redone by the next run.
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from typing import Callable

from filelock import FileLock, Timeout
from omegaconf import DictConfig, OmegaConf, open_dict

from src.data.records import MathRecord, write_jsonl
from src.data.sources import load_math
from src.data.synthetic import FAMILIES, generate_math
from src.utils.run_dir import RunDir

log = logging.getLogger(__name__)

CROSS_ENTROPY = {"_target_": "src.objectives.cross_entropy.CrossEntropy"}
RUN = "run"  # the pretraining run's folder inside the cached model folder


def base_corpus(cfg: DictConfig) -> tuple[list[MathRecord], list[MathRecord]]:
    """(pretraining records, the run's held-out problems). `base_model.corpus.source`: `builtin` draws
    the corpus from every family it names and rejects every held-out problem text of the run's data;
    `train` is the run's own training split (e.g. MATH train with its worked solutions)."""
    data, corpus = cfg.data, cfg.base_model.corpus
    split = load_math(source=data.source, path=data.path, n_train=data.n_train, n_test=data.n_test,
                      seed=data.seed, synthetic=OmegaConf.to_container(data.synthetic))
    if corpus.source == "train":
        records = split.train
    else:
        families = list(corpus.families) if corpus.families is not None else list(FAMILIES)
        records, _ = generate_math(corpus.n_records, 0, seed=cfg.base_model.seed, families=families,
                                   levels=list(corpus.levels), exclude=[r.problem for r in split.test])
    return [replace(r, unique_id=f"base/{r.unique_id}") for r in records], split.test


def base_model_key(cfg: DictConfig, corpus: list[MathRecord]) -> str:
    """A content hash of the corpus, the model and tokenizer settings, the pretraining settings and the seed."""
    settings = OmegaConf.to_container(cfg.base_model, resolve=True)
    settings.pop("cache_dir")
    model = OmegaConf.to_container(cfg.model, resolve=True)
    model["optimizer"].pop("lr", None)  # pretraining uses base_model.lr; fine-tuning's own lr is free to change
    content = {
        "corpus": [r.to_dict() for r in corpus],
        "model": {k: model[k] for k in ("architecture", "vocab_size", "dtype", "optimizer", "scheduler")},
        "base_model": settings,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def pretraining_config(cfg: DictConfig, corpus_dir: Path, run_dir: Path) -> DictConfig:
    """The run's config turned into CE on the corpus folder from scratch: no base, no rollout."""
    base = cfg.base_model
    pre = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))  # run_dir interpolations follow
    with open_dict(pre):
        pre.pop("hydra", None)
        pre.base_model, pre.rollout, pre.resume, pre.report = None, None, None, None
        pre.paths.run_dir = str(run_dir)
        pre.objective = dict(CROSS_ENTROPY)
        pre.model.pretrained = None
        pre.model.split_digits = base.split_digits
        pre.model.optimizer.lr = base.lr
        pre.data.update(source="path", path=str(corpus_dir), n_train=None, n_test=None, refill="off",
                        prompt_format=base.corpus.prompt_format, batch_size=base.batch_size,
                        max_prompt_tokens=base.max_prompt_tokens, max_target_tokens=base.max_target_tokens,
                        eval_problems=base.eval_problems, eval_train_problems=0)
        pre.trainer.update(max_epochs=base.epochs, check_val_every_n_epoch=base.epochs, limit_train_batches=None)
        pre.evaluation.update(samples_per_problem=0, pass_ks=[], greedy=True,
                              answer_format=base.corpus.prompt_format)
    return pre


def ensure_base_model(cfg: DictConfig, fit: Callable[[DictConfig], dict]) -> Path:
    """The cached base model folder for `cfg`; when it is not cached yet, `fit` (src.run.train.train,
    which calls this module) pretrains it first."""
    corpus, held_out = base_corpus(cfg)
    key = base_model_key(cfg, corpus)
    folder = Path(cfg.base_model.cache_dir) / key
    with _exclusive(folder):  # side-by-side jobs: one builds, the others wait and reuse it
        if (folder / "config.json").exists():
            log.info("base model: reusing %s", folder)
            return folder
        return _build(cfg, fit, corpus, held_out, key, folder)


@contextmanager
def _exclusive(folder: Path):
    """Hold `folder`'s build lock, saying so when another run holds it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder.with_name(f".{folder.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("base model: another run is building %s; waiting for it", folder)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _build(cfg, fit, corpus, held_out, key: str, folder: Path) -> Path:
    partial = folder.with_name(f".{key}.{os.getpid()}.partial")  # one per builder: concurrent runs do not mix
    shutil.rmtree(partial, ignore_errors=True)
    log.info("base model: pretraining %d records for %d epochs into %s", len(corpus), cfg.base_model.epochs, partial)
    write_jsonl(partial / "corpus" / "train.jsonl", corpus)
    write_jsonl(partial / "corpus" / "test.jsonl", held_out)
    run = RunDir(partial / RUN)
    fit(pretraining_config(cfg, partial / "corpus", run.path))
    if not (run.model / "config.json").exists():
        raise RuntimeError(f"base model: {run.path} finished without {run.model}; is callbacks.export off?")
    for name in os.listdir(run.model):  # the run's save_pretrained export, at the top of the folder
        os.replace(run.model / name, partial / name)
    os.rmdir(run.model)
    shutil.rmtree(run.checkpoints)  # the exported weights are what is reused
    shutil.rmtree(partial / "corpus")  # rebuilt from the generator in milliseconds
    run.update_meta(role="base_model", key=key)
    try:
        os.replace(partial, folder)
    except OSError:  # another run finished the same model first: keep that one
        shutil.rmtree(partial, ignore_errors=True)
        if not (folder / "config.json").exists():
            raise
    return folder


def with_base_model(cfg: DictConfig, fit: Callable[[DictConfig], dict]) -> DictConfig:
    """`cfg` with `model.pretrained` pointing at its base model (built by `fit` when absent);
    unchanged when `base_model` is null."""
    if not cfg.get("base_model"):
        return cfg
    if cfg.model.pretrained:
        raise ValueError(f"base_model and model.pretrained={cfg.model.pretrained} both name the start of "
                         f"fine-tuning; set base_model=null to load model.pretrained")
    folder = ensure_base_model(cfg, fit)
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.model.pretrained = str(folder.resolve())
    return cfg
