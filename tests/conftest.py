"""Shared test fixtures: configs composed the way `python -m src.run` composes them, at tiny size."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf, open_dict

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny models: threads cost more than they bring (subprocesses too)
torch.set_num_threads(1)

# Small enough to fit and evaluate in seconds on one CPU core: conf/debug/smoke.yaml.
TINY = ["debug=smoke"]


def smoke_overrides(*prefixes: str) -> list[str]:
    """debug=smoke's values under `prefixes` as command-line overrides (for configs it does not fit
    whole, e.g. the proof experiments' model and trainer)."""
    def flat(node, prefix=""):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from flat(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value
    smoke = OmegaConf.to_container(OmegaConf.merge(*(OmegaConf.load(CONF / "debug" / f"{name}.yaml")
                                                     for name in ("default", "smoke"))))
    smoke.pop("defaults", None)
    return [f"{key}={str(value).lower() if isinstance(value, bool) else value}".replace(" ", "")
            for key, value in flat(smoke) if key.startswith(prefixes)]


# A base model (base_model=builtin) pretrained in seconds: add `base_model.cache_dir=<tmp>` too.
TINY_BASE = ["base_model.corpus.n_records=40", "base_model.epochs=1", "base_model.eval_problems=2",
             "base_model.batch_size=16"]

# One on-policy training step in the chain-of-thought format (DCO_a, GRPO), evaluated on 2 problems.
COT_ONE_STEP = [
    "data.prompt_format=cot", "data.max_target_tokens=32", "data.batch_size=4", "data.eval_problems=2",
    "data.eval_train_problems=0", "evaluation.samples_per_problem=2", "evaluation.pass_ks=[1,2]",
    "trainer.limit_train_batches=1", "trainer.log_every_n_steps=1",
]


def compose_config(overrides: list[str], run_dir: Path | None = None, tiny: bool = True,
                   config_name: str = "config") -> DictConfig:
    """Compose conf/<config_name>.yaml with `overrides` (after the tiny defaults), outside a Hydra app."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose(config_name, overrides=(TINY if tiny else []) + list(overrides))
    if run_dir is not None:
        with open_dict(cfg):
            cfg.paths.run_dir = str(run_dir)
    return cfg


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (staged only on project machines)")
    return SHARED_DATA


def in_fresh_interpreter(expression: str, hash_seed: str = "12345"):
    """eval(expression) in a new Python process with another PYTHONHASHSEED, returned as repr."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    code = f"import src.data.synthetic as s, src.search.theorems as t; print(repr({expression}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.strip()
