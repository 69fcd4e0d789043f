"""Table 3: the experiment's configs compose, the report puts our runs beside the paper's numbers,
and the one command runs end to end (warm start → CE, GRPO, DCO_a → report) at a toy size."""
import subprocess
import sys

import pytest
from hydra.utils import instantiate

from conftest import REPO, TINY, compose_config, smoke_overrides
from src.figures.table3 import KS, write_table3
from src.report import write_report
from src.utils.io import atomic_write_jsonl
from src.utils.run_dir import RunDir
from src.run.warm_start import warm_start_config

ROLLOUTS = {"cross_entropy": "NoneType", "grpo": "GroupRollout", "dco_approx": "PassRateRollout"}  # objective → its glue
SCALES = {"tiny": 8, "paper_cot": 64}  # scale → DCO_a's K


@pytest.mark.parametrize("scale,objective", [(s, o) for s in SCALES for o in ROLLOUTS])
def test_every_sweep_member_composes_with_its_rollout(tmp_path, scale, objective):
    cfg = compose_config(["experiment=table3_cot", f"scale={scale}", f"objective={objective}"], run_dir=tmp_path,
                         tiny=False)
    assert cfg.data.prompt_format == "cot" and list(cfg.evaluation.pass_ks) == [1, 16, 64]
    assert instantiate(cfg.objective).name == objective
    rollout = instantiate(cfg.rollout, _convert_="all") if cfg.get("rollout") else None
    assert type(rollout).__name__ == ROLLOUTS[objective]
    if objective.startswith("dco_approx"):
        assert cfg.data.refill == "exact" and rollout.samples == SCALES[scale]
    if scale == "paper_cot":  # the hub's base model is the start, not the laptop-scale warm start
        assert cfg.model.pretrained == "meta-llama/Meta-Llama-3-8B"


def test_the_warm_start_is_plain_cross_entropy_from_scratch(tmp_path):
    sweep_member = compose_config(["experiment=table3_cot", "objective=dco_approx"], tiny=False)
    cfg = warm_start_config(sweep_member, tmp_path / "warm_start", epochs=2, lr=1e-3)
    assert cfg.objective._target_.endswith("CrossEntropy") and cfg.rollout is None
    assert cfg.model.pretrained is None and cfg.model.optimizer.lr == 1e-3
    assert cfg.trainer.max_epochs == cfg.trainer.check_val_every_n_epoch == 2
    assert cfg.paths.run_dir == str(tmp_path / "warm_start")


def fake_run(root, name, objective, passes, role=None, last_epoch_correct=None):
    """A completed run folder; `last_epoch_correct`: per-problem correct counts out of 64 samples."""
    run = RunDir(root / name)
    run.update_meta(status="completed", experiment="table3_cot", resolved_source="builtin",
                    objective={"name": objective}, **({"role": role} if role else {}))
    atomic_write_jsonl(run.metrics_file, [{"epoch": epoch, "test": {"coverage": {}, "pass": dict(zip(KS, values))}}
                                          for epoch, values in enumerate(passes, start=1)])
    if last_epoch_correct is not None:
        rows = [{"n_samples": 64, "n_correct": correct} for correct in last_epoch_correct]
        atomic_write_jsonl(run.eval_rows_file(len(passes)), rows)
    return run


def test_report_puts_each_epoch_beside_the_paper_and_names_the_winners(tmp_path):
    fake_run(tmp_path, "warm_start", "cross_entropy", [(0.02, 0.15, 0.30)], role="warm_start")
    fake_run(tmp_path, "0_cross_entropy", "cross_entropy", [(0.03, 0.2, 0.35)] * 3)
    fake_run(tmp_path, "1_grpo", "grpo", [(0.05, 0.2, 0.25)] * 3)
    fake_run(tmp_path, "2_dco_approx", "dco_approx", [(0.02, 0.25, 0.40)] * 3, last_epoch_correct=[0, 0, 0, 5, 64])
    report = write_report(tmp_path, "table3_cot").read_text()
    assert "| start | 0 | 2.0 | 15.0 | 30.0 | – | – | – |" in report
    assert "| GRPO | 3 | 5.0 | 20.0 | 25.0 | 12.6 | 35.8 | 46.3 |" in report
    assert "| DCO_a | 3 | 2.0 | 25.0 | 40.0 | 8.3 | 42.6 | 63.1 |" in report
    assert "- pass@1: ours **GRPO** (CE 3.0, GRPO 5.0, DCO_a 2.0 [" in report
    assert "- pass@64: ours **DCO_a**" in report and report.count("paper **DCO_a**") == 2
    assert "- pass@16: ours **DCO_a** (CE 20.0, GRPO 20.0, DCO_a 25.0 [0, 76])" in report  # interval from its rows
    assert (tmp_path / "table3.png").stat().st_size > 0


def test_ties_are_reported_as_ties(tmp_path):
    runs = [fake_run(tmp_path, f"{i}_{o}", o, [(0.0, 0.0, 0.1)]) for i, o in enumerate(("cross_entropy", "grpo"))]
    assert "- pass@1: ours **tie (CE, GRPO)**" in write_table3(tmp_path, runs)


@pytest.mark.slow
def test_one_command_runs_the_experiment_end_to_end(tmp_path):
    out = tmp_path / "sweep"
    toy = ["data.synthetic.n_train=24", "data.synthetic.n_test=8", "data.eval_problems=2", "data.batch_size=8",
           "data.max_target_tokens=16", "evaluation.samples_per_problem=2", "evaluation.pass_ks=[1,2]",
           "trainer.max_epochs=1", "hydra.callbacks.warm_start.epochs=1"]
    tiny_model = smoke_overrides("model.", "trainer.accelerator", "trainer.enable_progress_bar")
    subprocess.run([sys.executable, "-m", "src.run", "experiment=table3_cot", *tiny_model, *toy,
                    f"hydra.sweep.dir={out}"], cwd=REPO, check=True, capture_output=True, timeout=600)
    assert (out / "warm_start" / "model" / "config.json").exists()
    assert sorted(p.parent.name for p in out.glob("*/metrics.jsonl")) == [
        "0_cross_entropy", "1_grpo", "2_dco_approx", "warm_start"]
    report = (out / "report.md").read_text()
    assert all(f"| {name} | 1 |" in report for name in ("CE", "GRPO", "DCO_a")) and "| start | 0 |" in report
