"""Checks of a composed config, run before any folder exists.

`ConfigChecks` is a Hydra callback (conf/config.yaml, hydra.callbacks.checks): its `on_run_start` /
`on_multirun_start` run before the run or sweep folder is created, so a config that cannot run fails
with a message naming the key, the value and what is accepted, and leaves nothing behind. Hydra turns
a callback's exceptions into warnings, so a failed check exits (SystemExit) instead.

The objective is checked by building it (its constructor owns its ranges: src/objectives/); the other
groups by the value rules in `RULES`; a MATH `data.path` must hold a split pair (`check_data`). A
sweep checks every combination of its sweep values.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable

from hydra.experimental.callback import Callback
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from src.data.sources import resolve_source, split_files

KINDS = ("math_direct", "math_cot", "proofs")


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _positive_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _refill_mode(v: Any) -> bool:
    from src.data.refill import Refill

    return v in {mode.value for mode in Refill}


# key → (rule, what is accepted). A key absent from the config (another evaluator or data module) is skipped.
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "trainer.max_epochs": (_int_at_least(1), "an integer >= 1"),
    "trainer.limit_train_batches": (lambda v: v is None or (_positive_number(v) and (isinstance(v, int) or v <= 1)),
                                    "null, an integer >= 1 or a fraction in (0, 1]"),
    "data.batch_size": (_int_at_least(1), "an integer >= 1"),
    "data.eval_batch_size": (_int_at_least(1), "an integer >= 1"),
    "data.eval_problems": (lambda v: v is None or _int_at_least(1)(v), "null (all) or an integer >= 1"),
    "data.eval_train_problems": (_int_at_least(0), "an integer >= 0 (0: off)"),
    "data.refill": (_refill_mode, "one of off | exact | cached (src/data/refill.py)"),
    "data.prompt_format": (lambda v: v in ("direct", "cot"), "direct | cot"),
    "data.source": (lambda v: v in ("auto", "path", "hub", "builtin", "leandojo"),
                    "auto | path | hub | builtin (math), builtin | leandojo (proofs)"),
    "data.max_target_tokens": (_int_at_least(1), "an integer >= 1"),
    "data.max_prompt_tokens": (_int_at_least(1), "an integer >= 1"),
    "base_model.corpus.source": (lambda v: v in ("builtin", "train"), "builtin | train (src/run/base_model.py)"),
    "evaluation.grading_timeout": (_positive_number, "a number of seconds > 0"),
    "evaluation.grader": (lambda v: v in ("equivalent", "strict"), "equivalent | strict (src/evaluation/grading.py)"),
    "evaluation.samples_per_problem": (_int_at_least(0), "an integer >= 0 (0: off)"),
    "evaluation.coverage_ns": (lambda v: bool(v) and all(_int_at_least(1)(n) for n in v), "a list of integers >= 1"),
    "evaluation.sampling.backend": (lambda v: v in ("hf", "vllm"), "hf | vllm"),
    "evaluation.sampling.temperature": (lambda v: _positive_number(v) or v == 0, "a number >= 0 (0: greedy)"),
    "evaluation.sampling.top_p": (lambda v: _positive_number(v) and v <= 1, "a number in (0, 1]"),
    "evaluation.sampling.batch_size": (_int_at_least(1), "an integer >= 1"),
    "evaluation.sampling.max_new_tokens": (_int_at_least(1), "an integer >= 1"),
    "evaluation.search.budget": (_int_at_least(1), "an integer >= 1"),
}


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


def check_values(cfg: DictConfig) -> None:
    """Every rule of `RULES` whose key is in `cfg`, then the objective's own checks (by building it)."""
    for key, (accepts, accepted) in RULES.items():
        if OmegaConf.select(cfg, key, default="<absent>") == "<absent>":
            continue
        value = OmegaConf.select(cfg, key)
        if not accepts(value):
            raise ValueError(f"{key}={value!r}; accepted: {accepted}")
    samples, ks = cfg.evaluation.get("samples_per_problem"), cfg.evaluation.get("pass_ks")
    if samples and ks and max(ks) > samples:
        raise ValueError(f"evaluation.pass_ks={list(ks)} needs evaluation.samples_per_problem >= {max(ks)} "
                         f"(got {samples}): pass@k needs at least k samples")
    try:
        instantiate(cfg.objective)
    except Exception as error:  # Hydra wraps the constructor's ValueError; report its own message
        cause = error.__cause__ or error
        raise ValueError(f"objective ({cfg.objective._target_}): {cause}") from error


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
        check_values(cfg)
    if cfg.task in ("train", "evaluate"):
        check_data(cfg)


def sweep_configs(config: DictConfig):
    """The task config of every job of a sweep (Hydra's basic sweeper syntax: `key=a,b,c`), so values
    that only a sweep sets are checked before the sweep folder exists."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    parser = OverridesParser.create()
    command_line = parser.parse_overrides(list(config.hydra.overrides.task))
    given = {o.get_key_element() for o in command_line}
    params = config.hydra.get("sweeper", {}).get("params") or {}  # an experiment's own sweep
    overrides = parser.parse_overrides([f"{k}={v}" for k, v in params.items() if k not in given]) + command_line
    axes = [[f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] if o.is_sweep_override()
            else [o.input_line] for o in overrides]
    if all(len(axis) == 1 for axis in axes):
        yield config
        return
    loader = GlobalHydra.instance().config_loader()
    for combination in itertools.product(*axes):
        yield loader.load_configuration(config.hydra.job.config_name, list(combination), RunMode.RUN)


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
        for job in sweep_configs(config):
            with open_dict(job):
                exit_on_error(check_launch, job)
