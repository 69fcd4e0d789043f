"""Every MATH paper experiment runs end to end at tiny size and writes its report."""
import subprocess
import sys

import pytest

from conftest import REPO, TINY
from src.figures.estimates import cell
from src.utils.run_dir import find_runs


def run_experiment(name, out, *extra):
    cmd = [sys.executable, "-m", "src.run", f"experiment={name}", *TINY, f"hydra.sweep.dir={out}",
           f"hydra.run.dir={out}", *extra]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return (out / "report.md").read_text()


@pytest.mark.parametrize("name", ["theory", "fig_confidence_factor"])
def test_theory_experiments_draw_without_training(tmp_path, name):
    report = run_experiment(name, tmp_path)
    assert "pass@16" in report and "81.5%" in report  # the toy example's hedging model
    assert (tmp_path / "confidence_factor.png").exists() and (tmp_path / "optimal_confidence.png").exists()


@pytest.mark.slow
def test_table1(tmp_path):
    report = run_experiment("table1_ce_epochs", tmp_path, "trainer.max_epochs=2")
    (run,), _ = find_runs(tmp_path)  # (completed, not completed)
    for m in run.metrics():  # our numbers, every epoch, as the run recorded them
        assert f"| {m['epoch']} | " + " | ".join(cell(m["test"], n) for n in ("1", "16", "256", "4096")) in report
    assert (tmp_path / "table1.png").exists()


@pytest.mark.slow
def test_fig1(tmp_path):
    report = run_experiment("fig1_confidence", tmp_path, "objective.n=1,16")
    assert "greedy accuracy" in report
    for png in ("fig1ab_ce_confidence.png", "fig1c_confidence_factor.png", "fig1d_confidence_by_budget.png"):
        assert (tmp_path / png).exists()


@pytest.mark.slow
def test_fig2_with_budget_advice(tmp_path):
    report = run_experiment("fig2_pareto", tmp_path, "objective.n=1,4,16")
    assert "train with N′" in report and (tmp_path / "budget_advice.json").exists()
    assert (tmp_path / "fig2_pareto.png").exists()
