"""The Hydra plugin recipes run here on CPU: a sweep through the submitit launcher (`submitit_local`
runs the jobs the way `submitit_slurm` does on a cluster: pickled, in their own processes), and the
Optuna search config; sweep folders are named by what the sweep varies."""
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, TINY
from src.utils.io import read_jsonl

TWO_TRIALS = ["trainer.limit_train_batches=1", "data.eval_problems=4", "data.eval_train_problems=0"]


def test_a_two_job_sweep_runs_through_the_submitit_launcher(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e .[slurm]")
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "src.run", "-m", "hydra/launcher=submitit_local", "objective=dco",
           "objective.n=1,2", *TINY, *TWO_TRIALS, f"hydra.sweep.dir={out}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.parent.name for p in out.glob("*/meta.json")) == ["0_dco_n1", "1_dco_n2"]
    for name in ("0_dco_n1", "1_dco_n2"):
        assert [m["epoch"] for m in read_jsonl(out / name / "metrics.jsonl")] == [1]
    assert list(out.glob(".submitit/*/*_result.pkl")), "the jobs did not run through submitit"
    assert f"sweep folder: {out}" in done.stdout


def test_the_optuna_search_runs_trials_and_records_the_best(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="pip install -e .[optuna]")
    out = tmp_path / "search"
    cmd = [sys.executable, "-m", "src.run", "hparams_search=dco_optuna", "hydra.sweeper.n_trials=2",
           "optimized_n=16", *TINY, *TWO_TRIALS, f"hydra.sweep.dir={out}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = sorted(p.parent.name for p in out.glob("*/meta.json"))
    assert len(runs) == 2 and all(r.startswith(("0_dco_n", "1_dco_n")) and "_lr" in r for r in runs), runs
    best = yaml.safe_load((out / "optimization_results.yaml").read_text())
    assert set(best["best_params"]) == {"objective.n", "model.optimizer.lr"} and 0 <= best["best_value"] <= 1
