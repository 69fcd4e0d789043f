"""The thread policy: how many CPU threads torch uses and how many grading processes run, chosen from
the cores that are actually free when a run starts (a shared machine's other processes count).

`threads: auto` (conf/config.yaml) gives torch the free cores: the cores this process may run on
(`os.sched_getaffinity`) less the load of everything else (`os.getloadavg`, 1-minute average), at
least one. More threads than free cores make every step wait for the slowest (measured: a step up to
17× slower with 2 threads beside other jobs than with 1). An integer overrides the choice; so does
OMP_NUM_THREADS when `threads` is left at auto. Under DDP the ranks of one node share the free
cores. Sweeps on one machine: run their jobs side by side (`hydra/launcher=joblib`, which sets
OMP_NUM_THREADS = cores / jobs in each) rather than one after another with all cores.
"""
from __future__ import annotations

import os


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def free_cores() -> int:
    """Cores not busy with other processes right now (at least 1)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return max(1, min(usable_cores(), round(usable_cores() - load)))


def torch_threads(setting: int | str = "auto") -> int:
    """`setting` threads, or for "auto" OMP_NUM_THREADS if set, else the free cores."""
    if setting == "auto":
        if os.environ.get("OMP_NUM_THREADS"):
            return int(os.environ["OMP_NUM_THREADS"])
        return max(1, free_cores() // int(os.environ.get("LOCAL_WORLD_SIZE", 1)))  # DDP: shared by the ranks
    if isinstance(setting, int) and setting >= 1:
        return setting
    raise ValueError(f"threads={setting!r}; accepted: auto or an integer ≥ 1")


def grading_workers(setting: int | str = "auto") -> int:
    """math-verify processes: for "auto" one per free core beyond the one sampling uses, at least 1."""
    if setting == "auto":
        return max(1, free_cores() - 1)
    if isinstance(setting, int) and setting >= 1:
        return setting
    raise ValueError(f"evaluation.grading_workers={setting!r}; accepted: auto or an integer ≥ 1")
