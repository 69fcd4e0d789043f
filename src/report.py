"""Rebuild an experiment's report from its run folders, without retraining.

    python -m src.report outputs/<experiment>/<time> [--experiment NAME]

Runs are found recursively (folders with meta.json); only completed ones are drawn, the others are
listed at the end of the report. The report is the one the runs' experiment names in its config
(`report:` in conf/experiment/NAME.yaml); `--experiment NAME` draws another experiment's report
from the same runs (e.g. Table 1 from the main job's CE run).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from src.figures.report import draw_report
from src.utils.run_dir import find_runs

CONF = Path(__file__).resolve().parents[1] / "conf"


def experiment_report(experiment: str):
    """The `report` node of conf/experiment/<experiment>.yaml, composed as `src.run` would."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose("config", overrides=[f"experiment={experiment}"]).get("report")


def saved_report(root: Path):
    """The `report` node saved in the first run's config.yaml under `root` (None if there is none)."""
    for run in sum(find_runs(root), []):
        if run.config.exists():
            return OmegaConf.load(run.config).get("report")
    return None


def write_report(root: str | Path, experiment: str | None = None) -> Path:
    root = Path(root)
    return draw_report(root, experiment_report(experiment) if experiment else saved_report(root))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", help="a sweep folder (outputs/<experiment>/<time>) or a run folder")
    parser.add_argument("--experiment", help="draw this experiment's report (default: the runs' own)")
    args = parser.parse_args(argv)
    print(write_report(args.root, args.experiment).read_text())


if __name__ == "__main__":
    main()
