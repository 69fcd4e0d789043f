"""`python -m src.run experiment=math_passn [overrides]`: compose conf/, then train (task=train) and,
for a single run of an experiment with a report, draw it in the run folder (sweeps draw theirs when
the last job ends: src/run/report_callback.py). task=report draws the report alone (closed-form
experiments such as theory have nothing to train).

A run that does not complete exits non-zero with its status (src/utils/run_dir.py). In a sweep a job
that fails is recorded in its folder and the sweep goes on; an interrupted job (SIGTERM, SIGINT,
SIGUSR1) stops the sweep: the remaining jobs are skipped, and the sweep still draws its partial report
and exits non-zero."""
from __future__ import annotations

import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from src.run.folder import FolderConflict
from src.run import signals
from src.run.signals import Interrupted, signals_interrupt_the_job
from src.run.train import RunStopped, train

TASKS = ("train", "report")
# absolute: Hydra resolves a relative config_path against the *module* when launched as the console
# script `dco-run` (pkg://src/conf, which is no package), and against this file under `python -m`
CONF = str(Path(__file__).resolve().parents[2] / "conf")
log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=CONF, config_name="config")
def main(cfg: DictConfig) -> float | None:
    if cfg.task not in TASKS:
        raise ValueError(f"task={cfg.task!r}; accepted: {list(TASKS)}")
    sweep = HydraConfig.get().mode == RunMode.MULTIRUN
    if sweep and signals.stopped_jobs:
        log.warning("skipped: the sweep was interrupted (%s)", signals.stopped_jobs[0])
        return None
    try:
        with signals_interrupt_the_job():
            metrics = train(cfg) if cfg.task == "train" else {}
    except FolderConflict as error:
        raise SystemExit(f"run folder error: {error}") from error
    except Interrupted as stopped:  # before the run folder was claimed: nothing was written
        if not sweep:
            raise SystemExit(str(stopped)) from stopped
        signals.stopped_jobs.append(str(stopped))
        return None
    except RunStopped as stopped:
        if not sweep:
            raise SystemExit(str(stopped)) from stopped
        log.error("%s", stopped)
        if stopped.status == "interrupted":
            signals.stopped_jobs.append(str(stopped))
        return None
    except Exception:
        if not sweep:
            raise
        log.exception("job failed (its folder records status `failed`); the sweep goes on")
        return None
    if cfg.report is not None and not sweep:
        from src.figures.report import draw_report

        report = draw_report(cfg.paths.run_dir, cfg.report)
        print(report.read_text())
        print(f"report: {report}")
    print(f"run folder: {cfg.paths.run_dir}")
    return metrics.get("test", {}).get("coverage", {}).get(str(cfg.optimized_n)) if metrics else None


if __name__ == "__main__":
    main()
