"""Sweeps whose jobs run side by side (`hydra/launcher=joblib`, the main job's launcher), as
subprocesses: a SIGTERM to the sweep's process reaches every running job, the jobs it had not started
are skipped, and the sweep still ends with its report and a non-zero exit; a job that fails is listed."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from conftest import CONF, REPO, TINY
from test_reliability import EPOCHS
from src.run.signals import Interrupted, signals_interrupt_the_job
from src.utils.run_dir import find_runs

SIDE_BY_SIDE = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]


def sweep(sweep_dir, *overrides):
    cmd = [sys.executable, "-m", "src.run", "-m", *SIDE_BY_SIDE, f"hydra.sweep.dir={sweep_dir}", *TINY,
           "report={_target_:src.figures.comparison.comparison_markdown}", *overrides]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_main_job_runs_its_two_objectives_side_by_side():
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        hydra = compose("config", overrides=["experiment=math_passn"], return_hydra_config=True).hydra
    assert "joblib" in hydra.launcher._target_ and hydra.launcher.n_jobs == 2
    assert hydra.sweeper.params.objective == "cross_entropy,dco"


def test_sigterm_to_the_sweep_reaches_every_running_job(tmp_path):
    process = sweep(tmp_path, *EPOCHS, "seed=0,1,2")
    deadline = time.time() + 600
    while len(list(tmp_path.glob("*/metrics.jsonl"))) < 1:  # both jobs are training, one has an epoch
        assert process.poll() is None and time.time() < deadline, "the sweep ended before it could be signalled"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)  # to the sweep's process only, not to its workers
    _, err = process.communicate(timeout=600)
    assert process.returncode != 0 and "3 job(s) did not complete" in err
    done, left_out = find_runs(tmp_path)
    assert not done and [r.meta().get("status") for r in left_out] == ["interrupted", "interrupted", None]
    assert all("stopped by SIGTERM" in r.meta()["reason"] for r in left_out[:2])


def test_a_failed_job_is_listed_and_the_sweep_exits_non_zero(tmp_path):
    good, bad = REPO / "tests" / "fixtures" / "math_tiny", tmp_path / "bad_data"
    shutil.copytree(good, bad)
    with open(bad / "train.jsonl", "ab") as f:
        f.write(b"\xff\n")
    process = sweep(tmp_path / "sweep", "data.source=path", f"data.path={good},{bad}", "data.eval_problems=4")
    _, err = process.communicate(timeout=600)
    assert process.returncode != 0 and "1 job(s) did not complete" in err
    done, left_out = find_runs(tmp_path / "sweep")
    assert len(done) == 1 and left_out[0].meta()["status"] == "failed"
    assert "failed: DataFormatError: " in (tmp_path / "sweep" / "report.md").read_text()


def test_a_signal_outside_training_interrupts_the_job_and_restores_the_handlers():
    """Before training starts (data, tokenizer) SIGTERM's default would kill the job and leave its
    status at `running`: inside a job it raises `Interrupted` instead (src/run/__main__.py)."""
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted, match="stopped by SIGTERM"):
        with signals_interrupt_the_job():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) is before
