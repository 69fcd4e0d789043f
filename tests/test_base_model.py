"""The base-model stage: pretrained once on the built-in corpus, cached by content hash, reused by
fine-tuning through model.pretrained, rebuilt when anything that shapes it changes."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import compose_config
from src.data.math import normalize_problem
from src.run import train
from src.data.synthetic import DEFAULT_FAMILIES
from src.run.base_model import base_corpus, base_model_key, ensure_base_model
from src.utils.run_dir import RunDir

TINY_BASE = ["base_model=builtin", "base_model.corpus.n_records=40", "base_model.epochs=1",
             "base_model.eval_problems=2", "base_model.batch_size=16"]


def base_config(tmp_path, *overrides):
    return compose_config([*TINY_BASE, f"base_model.cache_dir={tmp_path / 'cache'}", *overrides],
                          run_dir=tmp_path / "run")


def key(cfg):
    return base_model_key(cfg, base_corpus(cfg)[0])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One fine-tuning run that had to build its base model first."""
    tmp = tmp_path_factory.mktemp("base")
    cfg = base_config(tmp)
    metrics = train(cfg)
    return tmp, cfg, metrics


def test_a_miss_builds_the_base_and_fine_tuning_starts_from_it(built):
    tmp, cfg, metrics = built
    folders = [p for p in (tmp / "cache").iterdir() if p.suffix != ".lock"]
    assert [p.name for p in folders] == [key(cfg)]  # no partial folder left behind
    base = folders[0]
    assert (base / "config.json").exists() and (base / "model.safetensors").exists()
    assert json.loads((base / "run" / "meta.json").read_text())["role"] == "base_model"
    meta = json.loads((tmp / "run" / "meta.json").read_text())
    assert meta["base_model"] == str(base.resolve()) and meta["status"] == "completed"
    # the run fine-tuned the base's weights with the base's tokenizer (digit by digit)
    assert (tmp / "run" / "tokenizer" / "tokenizer.json").read_text() == (base / "tokenizer.json").read_text()
    assert metrics["epoch"] == 1 and "confident_fraction" in metrics["test"]["greedy"]


def test_a_hit_reuses_the_cached_folder_without_training(built):
    tmp, cfg, _ = built

    def no_training(_):
        raise AssertionError("a cached base model was trained again")

    assert ensure_base_model(cfg, fit=no_training) == tmp / "cache" / key(cfg)
    # fine-tuning settings are not part of the base: another objective, lr or epoch count hits too
    other = base_config(tmp, "objective=dco", "model.optimizer.lr=1e-4", "trainer.max_epochs=3")
    assert ensure_base_model(other, fit=no_training) == tmp / "cache" / key(cfg)


@pytest.mark.parametrize("change", [
    "base_model.epochs=2", "base_model.lr=1e-3", "base_model.corpus.n_records=41", "base_model.split_digits=false",
    "base_model.corpus.families=[precedence]", "model.architecture.hidden_size=48", "model.vocab_size=500",
    "base_model.corpus.levels=[1,2]", "seed=1",
])
def test_a_config_change_is_a_miss_that_rebuilds(built, change):
    tmp, cfg, _ = built
    changed = base_config(tmp, change)
    assert key(changed) != key(cfg)

    class Built(Exception):
        pass

    def training(_):
        raise Built

    with pytest.raises(Built):
        ensure_base_model(changed, fit=training)


def test_a_killed_build_is_not_a_hit(tmp_path):
    cfg = base_config(tmp_path)
    (tmp_path / "cache" / f".{key(cfg)}.123.partial").mkdir(parents=True)
    called = []

    def killed(_):
        called.append(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ensure_base_model(cfg, fit=killed)
    assert called and not (tmp_path / "cache" / key(cfg)).exists()


def test_the_corpus_spans_every_family_and_never_holds_a_held_out_problem(tmp_path):
    cfg = base_config(tmp_path, "base_model.corpus.n_records=450")
    corpus, held_out = base_corpus(cfg)
    assert {r.unique_id.split("/")[2] for r in corpus} >= {"arithmetic", "column_arithmetic", "precedence"}
    assert not {normalize_problem(r.problem) for r in corpus} & {normalize_problem(r.problem) for r in held_out}


def test_concurrent_runs_build_one_base_and_share_it(tmp_path):
    """The main job's two objectives start at once: one builds, the other waits and reuses."""
    cfg, calls = base_config(tmp_path), []

    def fit(pre):
        calls.append(pre.paths.run_dir)
        time.sleep(0.5)  # long enough for the other thread to reach the lock
        model = RunDir(pre.paths.run_dir).model
        model.mkdir(parents=True)
        (model / "config.json").write_text("{}")
        RunDir(pre.paths.run_dir).checkpoints.mkdir(parents=True, exist_ok=True)

    with ThreadPoolExecutor(2) as pool:
        folders = list(pool.map(lambda _: ensure_base_model(cfg, fit=fit), range(2)))
    assert len(calls) == 1 and folders[0] == folders[1] == tmp_path / "cache" / key(cfg)


def test_a_train_corpus_is_the_runs_own_training_split(tmp_path):
    """base_model=math_solutions: pretraining on the training split's worked solutions (real MATH)."""
    cfg = base_config(tmp_path, "base_model=math_solutions", "data.synthetic.n_train=30")
    corpus, held_out = base_corpus(cfg)
    assert len(corpus) == 30 and {r.unique_id.split("/")[2] for r in corpus} <= set(DEFAULT_FAMILIES)
    assert not {r.problem for r in corpus} & {r.problem for r in held_out}
    assert cfg.base_model.corpus.prompt_format == "cot" and all("\\boxed" in r.solution for r in corpus)
    assert key(cfg) != key(base_config(tmp_path, "data.synthetic.n_train=30"))
