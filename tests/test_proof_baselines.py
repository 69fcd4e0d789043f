"""experiment=proof_baselines: the proof-attempt rollout (worked on a scripted policy), one training
step of each proof method, the report, and the one command end to end at toy size."""
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from hydra.utils import instantiate

from conftest import REPO, compose_config
from src.figures.proof_baselines import write_proof_baselines
from src.rollouts.proof_groups import ProofGroupRollout
from src.run import train
from src.utils.io import atomic_write_jsonl
from src.utils.run_dir import RunDir
from test_proof_pipeline import PROOF_TINY


class ScriptedPolicy:
    """Attempt i of the script plays tactics script[i] in order (one attempt per statement, in lockstep)."""

    def __init__(self, script):
        self.script, self.calls = script, 0

    def sample(self, states, k):
        live = [i for i, tactics in enumerate(self.script) if len(tactics) > self.calls]
        self.calls += 1
        return [[(self.script[i][self.calls - 1], 0.0)] for i in live][:len(states)]


def test_attempts_end_proved_rejected_or_out_of_steps():
    rollout = ProofGroupRollout(group_size=2, max_steps=2)
    script = [["intro h", "exact h"], ["exact h"], ["intro h", "intro x0"]]  # proved | rejected | out of steps
    steps, proved = rollout.attempts(ScriptedPolicy(script), ["p → p"] * 3)
    assert proved == [True, False, False]
    assert [[tactic for _, tactic in attempt] for attempt in steps] == script
    assert steps[0][1][0] == "p : Prop\nh : p\n⊢ p"  # the state each tactic was sampled in
    with pytest.raises(ValueError, match="built-in formal system only"):
        ProofGroupRollout(env="lean")


# one epoch of two batches; G = 2 proof attempts of at most 4 steps (the search depth) for the RL method
TOY = ["trainer.max_epochs=1", "trainer.check_val_every_n_epoch=1", "trainer.limit_train_batches=2",
       "+scale.rollout.group_size=2", "evaluation.search.max_depth=4"]
PROOF_METHODS = ["cross_entropy", "dco_step_n4", "uniform_allocation", "unlikeliness"]


@pytest.mark.parametrize("objective", PROOF_METHODS)
def test_each_proof_method_trains_and_searches_one_epoch(tmp_path, objective):
    cfg = compose_config(["experiment=proof_baselines", *PROOF_TINY, *TOY, f"objective={objective}",
                          "model.pretrained=null"], run_dir=tmp_path, tiny=False)
    metrics = train(cfg)
    assert RunDir(tmp_path).completed and 0 <= metrics["test"]["pass@budget"] <= 1
    compute = metrics["compute"]
    assert compute["trained_tokens"] > 0
    assert (compute["sampled_tokens"] > 0) == (objective == "unlikeliness")  # only RL samples while training


def fake_run(root, name, objective, epochs, role=None):
    """epochs: per evaluated epoch, the solved flags of the same 10 theorems (lengths 2 and 3)."""
    run = RunDir(root / name)
    run.update_meta(status="completed", experiment="proof_baselines", resolved_source="builtin", objective=objective,
                    **({"role": role} if role else {}))
    metrics = []
    for epoch, flags in epochs:
        lengths = [2 + i % 2 for i in range(len(flags))]
        by_length = {str(n): sum(f for f, m in zip(flags, lengths) if m == n) / lengths.count(n) for n in (2, 3)}
        metrics.append({"epoch": epoch, "test": {"pass@budget": sum(flags) / len(flags), "budget": 64,
                                                 "pass@budget_by_length": by_length},
                        "compute": {"sampled_tokens": 0, "trained_tokens": 100 * epoch}})
        atomic_write_jsonl(run.eval_rows_file(epoch), [{"name": f"t{i}", "solved": bool(f), "reference_length": n}
                                                      for i, (f, n) in enumerate(zip(flags, lengths))])
    atomic_write_jsonl(run.metrics_file, metrics)
    return run


def test_report_pairs_each_method_with_ce_at_the_same_epoch(tmp_path):
    runs = [fake_run(tmp_path, "warm_start", {"name": "cross_entropy"}, [(4, [1] * 2 + [0] * 8)], role="warm_start"),
            fake_run(tmp_path, "0_ce", {"name": "cross_entropy"}, [(2, [1] * 4 + [0] * 6), (4, [1] * 5 + [0] * 5)]),
            fake_run(tmp_path, "1_ua", {"name": "uniform_allocation", "n": 64.0, "threshold": 0.0},
                     [(2, [1] * 4 + [0] * 6), (4, [1] * 10)])]
    report = write_proof_baselines(tmp_path, runs)
    assert "| start | 0 | 0 | 400 | 20.0 [" in report
    assert "| UA N=64 | 2 | 0 | 200 | 40.0 [" in report and "| +0.0 [+0, +0] |" in report
    assert "| UA N=64 | 4 | 0 | 400 | 100.0 [100, 100] | +50.0 [+" in report and "]* |" in report
    assert "| UA N=64 | 100 | 100 |" in report and "| CE | 60 | 40 |" in report  # by length, last epoch
    assert (tmp_path / "proof_baselines.png").stat().st_size > 0


def test_every_sweep_member_composes():
    for objective in ["cross_entropy", "dco_step_n4", "dco_step_n16", "uniform_allocation", "unlikeliness"]:
        cfg = compose_config(["experiment=proof_baselines", f"objective={objective}"], tiny=False)
        instantiate(cfg.objective)
        assert (cfg.get("rollout") is not None) == (objective == "unlikeliness")
    assert compose_config(["experiment=proof_baselines", "objective=uniform_allocation"], tiny=False).objective.n == 64


@pytest.mark.slow
def test_one_command_runs_the_experiment_end_to_end(tmp_path):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "src.run", "experiment=proof_baselines", *PROOF_TINY, *TOY,
           "hydra.callbacks.warm_start.epochs=1", f"hydra.sweep.dir={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, timeout=900)
    assert sorted(p.parent.name for p in out.glob("*/metrics.jsonl")) == [
        "0_cross_entropy", "1_dco_step_n4", "2_dco_step_n16", "3_uniform_allocation", "4_unlikeliness", "warm_start"]
    report = (out / "report.md").read_text()
    assert all(f"| {name} | 1 |" in report for name in ("CE", "DCO_step N_eff=4", "UA N=8", "unlikeliness β=0.25"))
