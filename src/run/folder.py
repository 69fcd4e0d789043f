"""A run folder belongs to exactly one resolved config.

A fresh run claims an empty folder (src/utils/run_dir.py, `RunDir.claim`); a resumed run (`resume=`,
or a requeued SLURM job) must compose the config saved in the folder's config.yaml. Only the keys in
`MAY_CHANGE` may differ: `resume` itself, the progress bar, and `trainer.max_epochs`, which may grow
(training continues to the new last epoch). Any other difference is refused, with the list of keys.
"""
from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from src.utils.run_dir import RunDir

MAY_CHANGE = {"resume", "trainer.enable_progress_bar"}
MAY_GROW = {"trainer.max_epochs"}


def flatten(node, prefix: str = "") -> dict:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out or {prefix[:-1]: {}}
    return {prefix[:-1]: node}


def config_differences(saved: dict, new: dict) -> list[str]:
    """'key: saved → new' for every key whose value differs and may not (MAY_CHANGE, MAY_GROW)."""
    saved, new = flatten(saved), flatten(new)
    lines = []
    for key in sorted(set(saved) | set(new)):
        old, value = saved.get(key, "<absent>"), new.get(key, "<absent>")
        if old == value or key in MAY_CHANGE:
            continue
        if key in MAY_GROW and isinstance(old, int) and isinstance(value, int) and value >= old:
            continue
        lines.append(f"{key}: {old!r} → {value!r}")
    return lines


class FolderConflict(ValueError):
    pass


def check_resumed_config(run: RunDir, cfg: DictConfig) -> None:
    if not run.config.exists():
        return  # killed before its config was written: nothing to compare with
    saved = OmegaConf.to_container(OmegaConf.load(run.config), resolve=False)
    differences = config_differences(saved, OmegaConf.to_container(cfg, resolve=True))
    if differences:
        command = " ".join(run.meta().get("overrides", []))
        raise FolderConflict(
            f"{run.path} holds a run of another config; a run folder belongs to one config, so resume it with "
            f"the overrides it was started with{f' ({command})' if command else ''}, or start a new run. "
            "Differing keys:\n  " + "\n  ".join(differences))


def refuse_fresh_run(run: RunDir) -> FolderConflict:
    status = run.meta().get("status", "no status")
    return FolderConflict(f"{run.path} already holds a run (status: {status}); continue it with resume={run.path} "
                          "or give the new run its own folder")
