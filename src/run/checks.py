"""Checks of a composed config that Hydra's own schema cannot express, run before any folder exists.

`ConfigChecks` is a Hydra callback (conf/config.yaml, hydra.callbacks.checks): its `on_run_start` /
`on_multirun_start` run before the run or sweep folder is created, so a config that cannot run fails
with a message and leaves nothing behind. Hydra turns a callback's exceptions into warnings, so a
failed check exits (SystemExit) instead.
"""
from __future__ import annotations

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from src.data.sources import resolve_source, split_files

KINDS = ("math_direct", "math_cot", "proofs")


def experiment_kind(cfg: DictConfig) -> str:
    """What an experiment trains: its declared `experiment_kind`, else read off the data config."""
    if cfg.get("experiment_kind"):
        return cfg.experiment_kind
    if str(cfg.data.get("_target_", "")).endswith("ProofDataModule"):
        return "proofs"
    return "math_cot" if cfg.data.get("prompt_format") == "cot" else "math_direct"


def check_scale(cfg: DictConfig) -> None:
    """A scale preset runs every experiment it fits and refuses the others, saying what to use."""
    kind, scale = experiment_kind(cfg), cfg.scale
    if kind not in scale.fits:
        raise ValueError(f"experiment_kind={kind!r}; accepted: {list(KINDS)}")
    why_not = scale.fits[kind]
    if why_not is not None:
        raise ValueError(f"scale={scale.name} does not fit experiment={cfg.experiment_name} ({kind}): {why_not}")


def check_data(cfg: DictConfig) -> None:
    """A MATH `data.path` is a folder with a split pair, and no other source would ignore it; scale
    presets with `builtin_data: false` (the paper's) refuse the built-in problems."""
    if experiment_kind(cfg) == "proofs":
        return
    source = resolve_source(cfg.data.source, cfg.data.path)
    if source == "path":
        split_files(cfg.data.path)
    scale = cfg.get("scale") or {}
    if source == "builtin" and not scale.get("builtin_data", True):
        raise ValueError(f"scale={scale.name} trains on MATH, not the built-in problems: give data.path=<folder "
                         f"with train.jsonl + test.jsonl> or data.source=hub")


def check_config(cfg: DictConfig) -> None:
    if cfg.task == "train":
        check_scale(cfg)
    if cfg.task in ("train", "evaluate"):
        check_data(cfg)


def exit_on_error(check, config: DictConfig) -> None:
    try:
        check(config)
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"config error: {error}") from error


def check_debug(cfg: DictConfig) -> None:
    """debug=smoke sizes MATH data and evaluation; the proof experiments are tiny already."""
    choice = cfg.get("hydra", {}).get("runtime", {}).get("choices", {}).get("debug")
    if choice == "smoke" and experiment_kind(cfg) == "proofs":
        raise ValueError("debug=smoke sizes the MATH experiments; proof experiments are tiny by default: "
                         "use debug=fdr (one batch) or no debug config")


def check_launch(cfg: DictConfig) -> None:
    check_debug(cfg)
    check_config(cfg)


class ConfigChecks(Callback):
    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        exit_on_error(check_launch, config)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        exit_on_error(check_launch, config)
