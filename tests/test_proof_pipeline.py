"""Theorem proving end to end at tiny size: the HF tactic policy, fit + proof search through
`src.run.train`, the ensemble and tree-shape reports, and the experiments' configs."""
import importlib.util
import math
import os
import subprocess
import sys

import pytest
import torch

from conftest import REPO, compose_config, smoke_overrides
from src.evaluation.proof_evaluator import ProofSearchEvaluator, SearchConfig
from src.sampling import SamplingConfig
from src.evaluation.tactic_policy import HFTacticPolicy
from src.figures.proofs import proof_label
from src.models.factory import build_model
from src.models.tokenizer import train_bpe_tokenizer
from src.report import write_report
from src.run import train
from src.search.theorems import generate_theorems
from src.utils.io import read_jsonl
from src.utils.run_dir import RunDir

PROOF_TINY = smoke_overrides("model.", "trainer.") + [
    "data.builtin.n_train=24", "data.builtin.n_test=4", "data.builtin.train_lengths=[1,2,3]",
    "data.builtin.test_lengths=[2,3]", "data.batch_size=16", "data.eval_train_steps=8",
    "data.max_prompt_tokens=96", "data.max_target_tokens=12", "evaluation.search.budget=8",
    "trainer.check_val_every_n_epoch=1",
]
PROOFS = ["data=proofs", "evaluation=proof_search", "objective=dco_step"]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models on two shared, busy cores: a second torch thread only waits (measured 30× slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_hf_policy_samples_k_tactics_with_finite_logprobs():
    theorems = generate_theorems(6, seed=2, lengths=[2, 3])
    tokenizer = train_bpe_tokenizer([t.statement for t in theorems] + ["apply h1", "exact h2", "intro hp"], 300)
    architecture = dict(model_type="llama", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256)
    torch.manual_seed(0)
    model = build_model(tokenizer, architecture=architecture).eval()
    policy = HFTacticPolicy(model, tokenizer, SamplingConfig(max_new_tokens=6), max_prompt_tokens=128)
    samples = policy.sample([t.statement for t in theorems[:3]], k=5)
    assert [len(s) for s in samples] == [5, 5, 5]
    for tactics in samples:
        assert all(isinstance(t, str) and math.isfinite(lp) and lp <= 0 for t, lp in tactics)
        by_tactic = {}
        for tactic, logprob in tactics:  # a tactic sampled twice has one score
            assert by_tactic.setdefault(tactic, logprob) == logprob
    assert policy.sample([], 4) == []


def test_bad_search_and_env_settings_fail_early():
    with pytest.raises(ValueError, match="search.strategy"):
        SearchConfig(strategy="mcts")
    with pytest.raises(ValueError, match="search.budget"):
        SearchConfig(budget=0)
    with pytest.raises(ValueError, match="evaluation.env"):
        ProofSearchEvaluator(env="coq")
    if importlib.util.find_spec("lean_interact") is None:  # the Lean backend says how to get it
        with pytest.raises(ImportError, match="lean-interact"):
            ProofSearchEvaluator(env="lean").env(header="import Mathlib")


def test_proof_labels():
    assert proof_label({"objective": {"name": "dco_step", "n_eff": 1}}) == "CE (N_eff=1)"
    assert proof_label({"objective": {"name": "dco_step", "n_eff": 16.0}}) == "N_eff=16"
    assert proof_label({"objective": {"name": "cross_entropy"}}) == "CE"
    assert proof_label({"objective": {"name": "dco_proof", "n": 64}}) == "DCO_proof N=64"


def test_fit_and_proof_search_write_a_complete_run(tmp_path):
    cfg = compose_config(PROOFS + PROOF_TINY + ["objective=dco_proof"], run_dir=tmp_path, tiny=False)
    metrics = train(cfg)
    run = RunDir(tmp_path)
    assert run.completed and run.meta()["resolved_source"] == "builtin" and run.meta()["n_test"] == 4
    test = metrics["test"]
    assert test["theorems"] == 4 and test["budget"] == 8 and 0 <= test["pass@budget"] <= 1
    assert set(test["pass@budget_by_length"]) == {"2", "3"} and 0 < test["mean_samples"] <= 8
    assert metrics["train"]["step_logp"] < 0 < metrics["train"]["step_p"] < 1
    rows = run.eval_rows(1)
    assert [r["reference_length"] for r in rows] == [2, 3, 2, 3]
    assert all(r["samples"] <= 8 and isinstance(r["proof"], list) for r in rows)
    assert (run.curves / "solved_by_length.png").stat().st_size > 0
    assert (run.checkpoints / "last.ckpt").exists() and (run.tokenizer / "tokenizer.json").exists()


def test_ensemble_and_tree_shape_reports_from_trained_runs(tmp_path):
    for n_eff in (1, 8):
        run_dir = tmp_path / f"n_eff_{n_eff}"
        train(compose_config(["experiment=proof_tree_shapes", *PROOF_TINY, f"objective.n_eff={n_eff}"],
                             run_dir=run_dir, tiny=False))
    report = write_report(tmp_path, "proof_ensemble").read_text()
    assert "| CE (N_eff=1), alone | 16 |" in report and "| N_eff=8, alone | 8 |" in report
    assert "| ensemble of 2 | 16 |" in report and (tmp_path / "ensemble.png").stat().st_size > 0
    stored = (tmp_path / "ensemble.json").stat().st_mtime
    write_report(tmp_path, "proof_ensemble")
    assert (tmp_path / "ensemble.json").stat().st_mtime == stored  # same runs and settings: reused
    report = write_report(tmp_path, "proof_tree_shapes").read_text()
    assert "narrow_deep" in report and "| N_eff=8 |" in report and "solved_by_length.png" in report


@pytest.mark.parametrize("experiment", ["proof_dco_step", "proof_tree_shapes", "proof_ensemble"])
def test_paper_scale_variants_compose(experiment, tmp_path):
    cfg = compose_config([f"experiment={experiment}", "scale=paper_proofs"], run_dir=tmp_path, tiny=False)
    assert cfg.model.pretrained == "Qwen/Qwen2.5-Math-1.5B" and cfg.data.source == "leandojo"
    assert cfg.evaluation.env == "lean" and cfg.evaluation.search.budget == 4096
    assert cfg.data.eval_path.endswith("minif2f_test.jsonl")
    tiny = compose_config([f"experiment={experiment}"], run_dir=tmp_path, tiny=False)
    assert tiny.data.source == "builtin" and tiny.evaluation.env == "builtin" and tiny.model.pretrained is None


@pytest.mark.slow
def test_proof_ensemble_experiment_runs_at_tiny_size(tmp_path):
    """`python -m src.run experiment=proof_ensemble` (tiny): five N_eff runs, then the report."""
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "src.run", "experiment=proof_ensemble", *PROOF_TINY,
           "objective.n_eff=1,32", f"hydra.sweep.dir={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, timeout=900)
    assert sorted(p.parent.name for p in out.glob("*/meta.json")) == ["0_n_eff_1", "1_n_eff_32"]
    assert len(read_jsonl(out / "0_n_eff_1" / "metrics.jsonl")) == 1
    report = (out / "report.md").read_text()
    assert "Ensemble vs single models at equal budget" in report and "| ensemble of 2 | 16 |" in report
    assert (out / "solved_by_length.png").exists() and (out / "ensemble.png").exists()
