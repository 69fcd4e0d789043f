"""`python -m src.run experiment=math_passn [overrides]`: compose conf/, then train (task=train) and,
for a single run of an experiment with a report, draw it in the run folder (sweeps draw theirs when
the last job ends: src/run/report_callback.py). task=report draws the report alone (closed-form
experiments such as theory have nothing to train)."""
from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from src.run.train import train

TASKS = ("train", "report")
# absolute: Hydra resolves a relative config_path against the *module* when launched as the console
# script `dco-run` (pkg://src/conf, which is no package), and against this file under `python -m`
CONF = str(Path(__file__).resolve().parents[2] / "conf")


@hydra.main(version_base="1.3", config_path=CONF, config_name="config")
def main(cfg: DictConfig) -> float | None:
    if cfg.task not in TASKS:
        raise ValueError(f"task={cfg.task!r}; accepted: {list(TASKS)}")
    metrics = train(cfg) if cfg.task == "train" else {}
    if cfg.report is not None and HydraConfig.get().mode == RunMode.RUN:
        from src.figures.report import draw_report

        report = draw_report(cfg.paths.run_dir, cfg.report)
        print(report.read_text())
        print(f"report: {report}")
    print(f"run folder: {cfg.paths.run_dir}")
    return metrics.get("test", {}).get("coverage", {}).get(str(cfg.optimized_n)) if metrics else None


if __name__ == "__main__":
    main()
