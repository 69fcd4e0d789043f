"""End to end on CPU at tiny size: fit + evaluate writes a complete run folder; the main job compares."""
import subprocess
import sys

import pytest

from conftest import REPO, TINY, TINY_BASE, compose_config
from src.run import train
from src.utils.io import read_jsonl
from src.utils.run_dir import RunDir


def test_fit_and_evaluate_writes_a_complete_run(tmp_path):
    metrics = train(compose_config([], run_dir=tmp_path))
    run = RunDir(tmp_path)
    assert run.completed and run.meta()["resolved_source"] == "builtin"
    assert metrics["epoch"] == 1 and set(metrics["test"]["coverage"]) == {"1", "4", "16"}
    assert set(metrics["test"]["pass"]) == {"1", "4"} and 0 <= metrics["test"]["greedy_accuracy"] <= 1
    rows = run.eval_rows(1)
    assert len(rows) == 8 and all(r["n_samples"] == 4 and "greedy_logp" in r for r in rows)
    assert (run.curves / "passn_vs_n.png").stat().st_size > 0
    assert (run.curves / "greedy_confidence.png").stat().st_size > 0
    assert (run.checkpoints / "last.ckpt").exists() and (run.tokenizer / "tokenizer.json").exists()


@pytest.mark.parametrize("refill", ["exact", "cached"])
def test_dco_with_the_refill_rule_trains_and_logs_drops(tmp_path, refill):
    # threshold 0.99 with N' = 2: F(2, p) = 2(1-p)/(2-p) > 0.99 only for tiny p, so drops happen once p grows
    cfg = compose_config(["objective=dco", "objective.n=2", "objective.threshold=0.5", f"data.refill={refill}",
                          "trainer.max_epochs=2", "trainer.limit_train_batches=null"], run_dir=tmp_path)
    train(cfg)
    logged = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert "refill/dropped" in logged and "train/kept" in logged
    assert [m["epoch"] for m in RunDir(tmp_path).metrics()] == [1, 2]


def test_main_job_on_the_mechanism_protocol_trains_ce_and_dco_from_one_cached_base(tmp_path):
    """`python -m src.run experiment=math_passn data=skills base_model=builtin` (tiny): one base model
    pretrained and cached, CE and DCO fine-tuned from it, confidence shares side by side."""
    out, bases = tmp_path / "sweep", tmp_path / "base_models"
    cmd = [sys.executable, "-m", "src.run", "experiment=math_passn", *TINY, "data=skills", "base_model=builtin", *TINY_BASE,
           f"base_model.cache_dir={bases}", f"hydra.sweep.dir={out}", "trainer.max_epochs=2"]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, timeout=600)
    runs = sorted(p.parent.name for p in out.glob("*/meta.json"))
    assert runs == ["0_cross_entropy", "1_dco"]
    (base,) = list(bases.iterdir())  # built by the first run, reused by the second
    for name in runs:
        metrics = read_jsonl(out / name / "metrics.jsonl")
        assert len(metrics) == 2 and set(metrics[-1]["test"]["greedy"]) == {"confident_fraction",
                                                                         "confident_wrong_fraction"}
        assert RunDir(out / name).meta()["base_model"] == str(base.resolve())
    records = read_jsonl(out / "0_cross_entropy" / "eval" / "epoch_002.jsonl")
    assert {r["unique_id"].split("/")[1] for r in records} == {"place_value"}  # data=skills
    report = (out / "report.md").read_text()
    assert "| CE | 2 |" in report and "| DCO N'=256 | 2 |" in report and "p̂ > 0.5, wrong" in report
    assert (out / "comparison.png").stat().st_size > 0


def test_every_epoch_records_where_its_time_went(tmp_path):
    """metrics.jsonl, the CSV log and the report carry each epoch's seconds of training and of
    evaluation, with sampling, grading and coverage as parts of the evaluation."""
    from src.figures.timing import timing_table

    train(compose_config(["trainer.max_epochs=2"], run_dir=tmp_path))
    run = RunDir(tmp_path)
    for m in run.metrics():
        seconds = m["seconds"]
        assert set(seconds) == {"training", "evaluation", "sampling", "grading", "coverage"}
        assert seconds["training"] > 0 and seconds["sampling"] > 0 and seconds["coverage"] > 0
        assert seconds["sampling"] + seconds["grading"] + seconds["coverage"] <= seconds["evaluation"]
    assert "seconds/training" in (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0]
    table = timing_table([run])
    assert "| 2 |" in table and "evaluation / training" in table
