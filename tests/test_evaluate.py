"""Every run exports its model with save_pretrained; `src.evaluate` evaluates it (or any model)."""
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import REPO, compose_config
from src.models.checkpoint import load_run_model
from src.models.export import save_pretrained_atomically
from src.run import train
from src.run.evaluate import evaluate
from src.utils.run_dir import RunDir


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> RunDir:
    run_dir = tmp_path_factory.mktemp("trained")
    train(compose_config([], run_dir=run_dir))
    return RunDir(run_dir)


def test_the_exported_model_opens_with_from_pretrained_and_gives_the_checkpoint_logits(trained_run):
    model = AutoModelForCausalLM.from_pretrained(trained_run.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(trained_run.model)
    reference, _, _ = load_run_model(trained_run)  # rebuilt from config.yaml + checkpoints/last.ckpt
    ids = torch.tensor([tokenizer("Question: What is $2 + 3$?\nAnswer: 5").input_ids])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, reference(ids).logits)
    assert not [p.name for p in trained_run.path.iterdir() if p.name.startswith(".model")]  # no temp folder left


def test_a_failed_export_keeps_the_previous_model(trained_run, tmp_path, monkeypatch):
    model = AutoModelForCausalLM.from_pretrained(trained_run.model)
    tokenizer = AutoTokenizer.from_pretrained(trained_run.model)
    folder = save_pretrained_atomically(model, tokenizer, tmp_path / "model")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(tokenizer), "save_pretrained", killed)
    with pytest.raises(KeyboardInterrupt):
        save_pretrained_atomically(model, tokenizer, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_evaluating_a_run_folder_reproduces_its_last_evaluation(trained_run, tmp_path):
    metrics = evaluate(compose_config([f"model.pretrained={trained_run.path}"], run_dir=tmp_path,
                                      config_name="evaluate"))
    run = RunDir(tmp_path)
    meta = run.meta()
    assert meta["job_type"] == "evaluate" and meta["status"] == "completed"
    assert meta["model"] == str(trained_run.model.resolve()) and meta["resolved_source"] == "builtin"
    assert metrics["epoch"] == 0 and run.metrics() == [metrics] and run.config.exists()
    # same weights, problems and tokenizer as the training run's own evaluation after its epoch 1
    own, again = trained_run.eval_rows(1), run.eval_rows(0)
    assert [r["unique_id"] for r in again] == [r["unique_id"] for r in own]
    assert [r["ref_logp"] for r in again] == pytest.approx([r["ref_logp"] for r in own], abs=1e-9)
    assert [r["greedy_answer"] for r in again] == [r["greedy_answer"] for r in own]
    assert metrics["test"]["coverage"] == pytest.approx(trained_run.metrics()[-1]["test"]["coverage"], abs=1e-12)


def test_src_evaluate_on_a_save_pretrained_folder_writes_a_run_and_its_report(trained_run, tmp_path):
    out = tmp_path / "evaluation"
    cmd = [sys.executable, "-m", "src.evaluate", "debug=smoke", f"model.pretrained={trained_run.model}",
           f"hydra.run.dir={out}"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    run = RunDir(out)
    assert run.meta()["job_type"] == "evaluate" and run.completed and len(run.eval_rows(0)) == 8
    report = (out / "report.md").read_text()
    assert f"# Evaluation of `{trained_run.model.resolve()}`" in report
    for line in ("| pass@16 (exact coverage) |", "| pass@4 (sampled, graded; 4 samples) |", "| greedy accuracy |"):
        assert line in report
    assert report in result.stdout


def test_evaluate_refuses_a_folder_that_is_neither_a_model_nor_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a save_pretrained folder .* nor a run folder"):
        evaluate(compose_config([f"model.pretrained={tmp_path}"], run_dir=tmp_path / "out", config_name="evaluate"))
    with pytest.raises(ValueError, match="model.pretrained is not set"):
        evaluate(compose_config([], run_dir=tmp_path / "out", config_name="evaluate"))
