"""Names that say what a run is: `dco_n256_seed0` for the job of a sweep over objective.n and seed,
used for its folder (`hydra.sweep.subdir: ${hydra.job.num}_${run_name:}`) and its W&B run; and the
W&B group of a sweep, `<experiment>/<time>` (the sweep folder), shared by all of its runs.

A name is the objective's config name followed by the values the sweep varies, each as the last
part of its key and its value (`objective.n=256` → `n256`, `model=qwen` → `model-qwen`). What a sweep
varies is read from the sweep itself, because a job's own override list also holds every constant
override of the command line: the keys of `hydra.sweeper.params` (experiment configs, Optuna) and the
keys given with sweep syntax (`a=1,2`, `range(..)`) on the command line, which Hydra keeps in
<sweep>/multirun.yaml. A single run (no sweep) is named by the objective overrides and seed it was
given on the command line.
"""
from __future__ import annotations

import re
from pathlib import Path

from omegaconf import OmegaConf

SINGLE_RUN_KEYS = re.compile(r"^(objective\..+|seed)$")


def run_name(objective: str, overrides: list[str], varied: set[str]) -> str:
    """`objective` then `<last key part><value>` for each override whose key is in `varied`."""
    parts = [objective]
    for override in overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key in varied and key != "objective":
            parts.append(name_part(key, value))
    return "_".join(parts)


def name_part(key: str, value: str) -> str:
    """`n256` for objective.n=256, `lr0.001`, `model-qwen` for model=qwen, `path-x` for data.path=/a/x."""
    short = key.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    value = Path(value.strip("'\"")).name if "/" in value else value.strip("'\"")
    value = re.sub(r"[^A-Za-z0-9._+-]+", "-", value).strip("-")
    return f"{short}{value}" if re.fullmatch(r"[-+0-9.e]+", value) else f"{short}-{value}"


def varied_keys(sweeper_params, sweep_dir: str | Path | None) -> set[str]:
    """The keys a sweep varies: its `hydra.sweeper.params` and the sweep-syntax command-line overrides
    recorded in <sweep_dir>/multirun.yaml (written by Hydra's sweeper before any job starts)."""
    keys = set(sweeper_params or {})
    master = Path(sweep_dir) / "multirun.yaml" if sweep_dir else None
    if master is not None and master.exists():
        from hydra.core.override_parser.overrides_parser import OverridesParser

        overrides = list(OmegaConf.load(master).hydra.overrides.task)
        keys |= {o.key_or_group for o in OverridesParser.create().parse_overrides(overrides)
                 if o.is_sweep_override()}
    return keys


def current_run_name(fallback: str) -> str:
    """The name of the run Hydra is running now (`fallback` outside a Hydra app)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return fallback
    hydra = HydraConfig.get()
    overrides = list(hydra.overrides.task)
    if hydra.mode == RunMode.MULTIRUN:
        varied = varied_keys(hydra.sweeper.get("params"), hydra.sweep.dir)
    else:
        varied = {k for k in (o.partition("=")[0].lstrip("+~") for o in overrides) if SINGLE_RUN_KEYS.match(k)}
    return run_name(hydra.runtime.choices.get("objective", "run"), overrides, varied)


def sweep_group(experiment: str, fallback_folder: str | Path) -> str:
    """`<experiment>/<sweep folder name>`: every run of one sweep (or a lone run) shares it."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    folder = fallback_folder
    if HydraConfig.initialized():
        hydra = HydraConfig.get()
        folder = hydra.sweep.dir if hydra.mode == RunMode.MULTIRUN else hydra.runtime.output_dir
    return f"{experiment}/{Path(str(folder)).name}"
