"""`python -m src.dashboard`: the W&B workspace of a sweep or an experiment is built (offline: the
object and its serialised view, which `.save()` would send) with the paper's panels."""
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from conftest import REPO

pytest.importorskip("wandb_workspaces", reason="pip install -e .[wandb]")
from src.dashboard import build_workspace, target_of  # noqa: E402


def fake_sweep(root, experiment="math_passn", ns=(1, 16, 256)):
    for name in ("0_cross_entropy", "1_dco"):
        (root / name).mkdir(parents=True)
        OmegaConf.save({"experiment_name": experiment, "evaluation": {"coverage_ns": list(ns)},
                        "logger": {"_target_": "lightning.pytorch.loggers.WandbLogger", "project": "my-proj",
                                   "entity": "my-team"}}, root / name / "config.yaml")
    return root


def panels_of(workspace) -> dict[str, list[str]]:
    return {s.name: [p.title for p in s.panels] for s in workspace.sections}


def test_a_sweep_folder_gives_a_workspace_of_its_group_with_the_paper_panels(tmp_path):
    sweep = fake_sweep(tmp_path / "2026-01-02_03-04-05")
    workspace = build_workspace(target_of(str(sweep)))
    assert (workspace.entity, workspace.project) == ("my-team", "my-proj")
    assert workspace.runset_settings.filters == "Metric(\"Group\") == 'math_passn/2026-01-02_03-04-05'"
    panels = panels_of(workspace)
    assert panels["pass@N against epoch"] == ["pass@1 against epoch", "pass@16 against epoch", "pass@256 against epoch"]
    bars = workspace.sections[1].panels[0]
    assert bars.metrics == ["test/coverage@1", "test/coverage@16", "test/coverage@256"]
    assert workspace.sections[2].panels[0].y == ["greedy_logp"]
    assert [p.y for p in workspace.sections[3].panels] == [["train/kept"], ["refill/dropped_fraction"], ["train/loss"]]
    view = workspace._to_model().model_dump_json()  # what .save() sends
    assert "test/coverage@256" in view and "math_passn/2026-01-02_03-04-05" in view


def test_an_experiment_name_gives_a_workspace_of_all_its_runs():
    target = target_of("fig2_pareto", entity="my-team")
    workspace = build_workspace(target)
    assert target.filter_key == "experiment" and target.project == "dco-repro"
    assert workspace.runset_settings.filters == "Config(\"experiment_name\") == 'fig2_pareto'"
    assert len(workspace.sections[0].panels) == len(target.coverage_ns) > 1


def test_the_command_line_dry_run_prints_the_panels_and_refuses_unknown_names(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep")
    done = subprocess.run([sys.executable, "-m", "src.dashboard", str(sweep), "--dry-run"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "pass@16 against epoch" in done.stdout and "math_passn/sweep" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "src.dashboard", "no_such_experiment", "--dry-run"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "math_passn" in bad.stderr and "no_such_experiment" in bad.stderr
