"""experiment=passk_baselines: every method composes with its rollout, the report compares per epoch and
at equal sampled-token budget (paired differences to GRPO), and the one command runs end to end."""
import subprocess
import sys

import pytest
from hydra.utils import instantiate

from conftest import REPO, TINY, compose_config
from src.figures.passk_baselines import equal_budget, write_passk_baselines
from src.utils.io import atomic_write_jsonl
from src.utils.run_dir import RunDir

METHODS = {"cross_entropy": "NoneType", "grpo": "GroupRollout", "dco_approx": "PassRateRollout", "pkpo": "GroupRollout",
           "pkpo_k16": "GroupRollout", "passk_training": "GroupRollout", "maxrl": "GroupRollout"}


@pytest.mark.parametrize("scale", ["tiny", "paper_cot"])
@pytest.mark.parametrize("objective", METHODS)
def test_every_method_composes_with_its_rollout_and_the_shared_group_size(objective, scale):
    cfg = compose_config(["experiment=passk_baselines", f"objective={objective}", f"scale={scale}"], tiny=False)
    assert list(cfg.evaluation.pass_ks) == [1, 4, 16, 64] and cfg.data.prompt_format == "cot"
    instantiate(cfg.objective)
    rollout = instantiate(cfg.rollout, _convert_="all") if cfg.get("rollout") else None
    assert type(rollout).__name__ == METHODS[objective]
    if METHODS[objective] == "GroupRollout":
        assert rollout.group_size == 16 >= cfg.objective.get("k", 1)


def test_other_experiments_keep_grpos_group_size():
    assert compose_config(["experiment=table3_cot", "objective=grpo"], tiny=False).rollout.group_size == 8


def fake_run(root, name, objective, epochs, role=None):
    """A completed run; epochs: [(pass@{1,4,16,64}, sampled tokens, per-problem correct of 64)]."""
    run = RunDir(root / name)
    run.update_meta(status="completed", experiment="passk_baselines", resolved_source="builtin",
                    objective=objective, **({"role": role} if role else {}))
    metrics = []
    for epoch, (passes, sampled, correct) in enumerate(epochs, start=1):
        metrics.append({"epoch": epoch, "test": {"pass": dict(zip(("1", "4", "16", "64"), passes))},
                        "compute": {"sampled_tokens": sampled, "trained_tokens": 1000 * epoch, "scored_tokens": 0}})
        atomic_write_jsonl(run.eval_rows_file(epoch), [{"unique_id": f"p{i}", "n_samples": 64, "n_correct": c}
                                                       for i, c in enumerate(correct)])
    atomic_write_jsonl(run.metrics_file, metrics)
    return run


def test_report_compares_at_the_budget_every_sampling_method_reached(tmp_path):
    def first(solved):  # 40 problems, the first `solved` always right, the others never
        return [64] * solved + [0] * (40 - solved)

    runs = [fake_run(tmp_path, "warm_start", {"name": "cross_entropy"}, [((0.1,) * 4, 0, first(4))], role="warm_start"),
            fake_run(tmp_path, "0_ce", {"name": "cross_entropy"}, [((0.2,) * 4, 0, first(8))] * 2),
            # GRPO spends 500 tokens per epoch, PKPO 800: the budget is 1000 (GRPO's total); PKPO is
            # compared at epoch 1 (800 ≤ 1000), not at its epoch 2 (1600)
            fake_run(tmp_path, "1_grpo", {"name": "grpo"}, [((0.25,) * 4, 500, first(10)), ((0.3,) * 4, 1000, first(12))]),
            fake_run(tmp_path, "2_pkpo", {"name": "pkpo", "k": 4}, [((0.5,) * 4, 800, first(20)),
                                                                    ((0.9,) * 4, 1600, first(36))])]
    budget, chosen = equal_budget({"GRPO": runs[2], "PKPO k=4": runs[3], "CE": runs[1]})
    assert budget == 1000 and chosen["PKPO k=4"]["epoch"] == 1 and chosen["GRPO"]["epoch"] == 2
    report = write_passk_baselines(tmp_path, runs)
    assert "| start | 0 | 0 | 1,000 | 10.0 [" in report
    assert "| PKPO k=4 | 2 | 1,600 | 2,000 | 90.0 [" in report  # per epoch: all of it
    assert "Budget: 1,000 sampled tokens" in report
    # at the budget: PKPO epoch 1 solves problems 0–19, GRPO epoch 2 problems 0–11: +8/40 = +20 points,
    # paired; CE (epoch 2, problems 0–7) is 4/40 = 10 points behind GRPO
    assert "| PKPO k=4 | 1 | 800 | 50.0 [" in report and "| +20.0 [+" in report and "]* |" in report
    assert "| CE (samples nothing) | 2 | 0 | 20.0 [" in report and "| -10.0 [" in report
    assert (tmp_path / "passk_baselines.png").stat().st_size > 0


@pytest.mark.slow
def test_one_command_runs_the_experiment_end_to_end(tmp_path):
    out = tmp_path / "sweep"
    toy = ["data.synthetic.n_train=16", "data.synthetic.n_test=4", "data.eval_problems=2", "data.batch_size=4",
           "data.max_target_tokens=12", "evaluation.samples_per_problem=4", "evaluation.pass_ks=[1,4]",
           "trainer.max_epochs=1", "trainer.limit_train_batches=2", "hydra.callbacks.warm_start.epochs=1"]
    tiny_model = [o for o in TINY if o.startswith(("model.", "trainer.accelerator", "trainer.enable_progress_bar"))]
    subprocess.run([sys.executable, "-m", "src.run", "experiment=passk_baselines", *tiny_model, *toy,
                    f"hydra.sweep.dir={out}"], cwd=REPO, check=True, capture_output=True, timeout=900)
    assert sorted(p.parent.name for p in out.glob("*/metrics.jsonl")) == [
        "0_cross_entropy", "1_grpo", "2_dco_approx", "3_pkpo", "4_pkpo_k16", "5_passk_training", "6_maxrl", "warm_start"]
    report = (out / "report.md").read_text()
    names = ("CE", "GRPO", "DCO_a", "PKPO k=4", "PKPO k=16", "Pass@k Training k=16", "MaxRL")
    assert all(f"| {name} | 1 |" in report for name in names)
    assert "Budget:" in report and (out / "passk_baselines.png").exists()
