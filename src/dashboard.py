"""`python -m src.dashboard <sweep folder | run folder | experiment>`: a W&B workspace with the paper's
panels for the runs of one sweep (its W&B group, `<experiment>/<time>`) or of every sweep of one
experiment (config `experiment_name`), built with `wandb-workspaces` (pip install -e .[wandb]):

- pass@N (exact coverage) against epoch, one panel per N of the evaluation;
- final pass@N against N: one bar group per run, i.e. per objective and N′, and each run's own curve;
- the greedy answer's confidence log p̂: its histogram per epoch, and each run's figure;
- training: kept fraction (DCO's threshold rule), dropped fraction (refill), loss.

`--dry-run` prints the panels without contacting W&B; otherwise the workspace is saved and its URL
printed (needs `wandb login` or WANDB_API_KEY).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONF = Path(__file__).resolve().parents[1] / "conf"


@dataclass
class Target:
    """Which runs a workspace shows, where they live in W&B, and the N of their pass@N."""
    name: str
    entity: str | None
    project: str
    filter_key: str      # "group" (one sweep) or "experiment" (all its sweeps)
    filter_value: str
    coverage_ns: list[str]


def build_workspace(target: Target):
    """The workspace object (nothing is sent: `.save()` does that)."""
    import wandb_workspaces.workspaces as ws

    run_filter = (ws.Metric("Group") == target.filter_value if target.filter_key == "group"
                  else ws.Config("experiment_name") == target.filter_value)
    return ws.Workspace(
        entity=target.entity, project=target.project, name=target.name,
        sections=paper_sections(target.coverage_ns),
        settings=ws.WorkspaceSettings(x_axis="epoch", max_runs=50),
        runset_settings=ws.RunsetSettings(filters=[run_filter]),
    )


def paper_sections(coverage_ns: list[str]) -> list:
    import wandb_workspaces.reports.v2 as wr
    import wandb_workspaces.workspaces as ws

    coverage = [f"test/coverage@{n}" for n in coverage_ns]
    by_epoch = [wr.LinePlot(title=f"pass@{n} against epoch", x="epoch", y=[key], range_y=(0, 1),
                            title_x="epoch", title_y=f"pass@{n} (exact coverage)")
                for n, key in zip(coverage_ns, coverage)]
    final = [wr.BarPlot(title="final pass@N against N (one bar group per run: objective, N′)",
                        metrics=coverage, orientation="v", title_y="pass@N (exact coverage)"),
             wr.MediaBrowser(title="each run's pass@N against N", media_keys=["curves/passn_vs_n"])]
    confidence = [wr.LinePlot(title="greedy-answer confidence log p̂ (histogram per epoch)", x="epoch",
                              y=["greedy_logp"]),
                  wr.MediaBrowser(title="each run's confidence histograms", media_keys=["curves/greedy_confidence"])]
    training = [wr.LinePlot(title="kept fraction (threshold rule)", y=["train/kept"], range_y=(0, 1)),
                wr.LinePlot(title="dropped fraction (refill)", x="epoch", y=["refill/dropped_fraction"]),
                wr.LinePlot(title="training loss", y=["train/loss"])]
    return [ws.Section(name=name, panels=panels, is_open=True)
            for name, panels in [("pass@N against epoch", by_epoch), ("final pass@N against N", final),
                                 ("greedy confidence", confidence), ("training", training)]]


def target_of(where: str, entity: str | None = None, project: str | None = None) -> Target:
    """A sweep folder, a run folder (holds meta.json) or an experiment name (conf/experiment/*.yaml)."""
    folder = Path(where)
    if folder.is_dir():
        cfg = _run_config(folder)
        group = f"{cfg.experiment_name}/{folder.resolve().name}"
        return Target(group, entity or _logger_field(cfg, "entity"), project or _logger_field(cfg, "project"),
                      "group", group, _coverage_ns(cfg))
    experiments = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
    if where not in experiments:
        raise SystemExit(f"src.dashboard: {where!r} is neither a folder nor an experiment; give a sweep or run "
                         f"folder (outputs/<experiment>/<time>) or one of {experiments}")
    cfg = _compose([f"experiment={where}", "logger=wandb"])
    return Target(where, entity or cfg.logger.entity, project or cfg.logger.project, "experiment", where,
                  _coverage_ns(cfg))


def _run_config(folder: Path) -> DictConfig:
    configs = sorted(folder.glob("config.yaml")) or sorted(folder.glob("*/config.yaml"))
    if not configs:
        raise SystemExit(f"src.dashboard: {folder} holds no run (no config.yaml in it or in its sub-folders); "
                         "give a folder written by `python -m src.run`")
    return OmegaConf.load(configs[0])


def _compose(overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose("config", overrides=overrides)


def _logger_field(cfg: DictConfig, field: str):
    """The run's W&B entity/project, or the defaults of conf/logger/wandb.yaml for a CSV-logged run."""
    if str(cfg.logger.get("_target_", "")).endswith("WandbLogger"):
        return cfg.logger.get(field)
    return OmegaConf.load(CONF / "logger" / "wandb.yaml").logger.get(field)


def _coverage_ns(cfg: DictConfig) -> list[str]:
    return [str(n) for n in cfg.evaluation.get("coverage_ns") or []]


def _default_entity() -> str:
    import wandb

    return wandb.Api().default_entity


def describe(target: Target) -> str:
    lines = [f"workspace {target.name!r}: project {target.project}, runs with {target.filter_key} = "
             f"{target.filter_value}"]
    for section in paper_sections(target.coverage_ns):
        lines.append(f"  {section.name}: " + "; ".join(panel.title for panel in section.panels))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m src.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("where", help="a sweep or run folder (outputs/<experiment>/<time>) or an experiment name")
    parser.add_argument("--entity", help="W&B entity (default: the run's logger.entity, else your default)")
    parser.add_argument("--project", help="W&B project (default: the run's logger.project)")
    parser.add_argument("--dry-run", action="store_true", help="print the panels; contact no server")
    args = parser.parse_args(argv)
    target = target_of(args.where, args.entity, args.project)
    print(describe(target))
    if not args.dry_run:
        target.entity = target.entity or _default_entity()
        print(f"dashboard: {build_workspace(target).save().url}")


if __name__ == "__main__":
    main()
