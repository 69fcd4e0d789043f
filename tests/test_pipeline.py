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
    for n, reference in metrics["test"]["coverage"].items():  # (b) ≤ (c): the reference is one correct spelling
        assert reference <= metrics["test"]["class_coverage"][n]
    assert all(low <= metrics["test"]["pass"][k] <= high for k, (low, high) in metrics["test"]["pass_ci"].items())
    rows = run.eval_rows(1)
    assert len(rows) == 8 and all(r["n_samples"] == 4 and "greedy_logp" in r for r in rows)
    assert all(r["ref_logp"] <= r["class_logp"] <= 0 for r in rows)
    assert (run.curves / "passn_vs_n.png").stat().st_size > 0
    assert (run.curves / "greedy_confidence.png").stat().st_size > 0
    assert (run.checkpoints / "last.ckpt").exists() and (run.tokenizer / "tokenizer.json").exists()


def logged_columns(run_dir) -> dict[str, list[float]]:
    """metrics.csv (CSVLogger) as column → the non-empty values in it."""
    import csv
    with open(run_dir / "logs" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows if r[k] != ""] for k in rows[0]}


@pytest.mark.parametrize("refill", ["exact", "cached"])
def test_dco_with_the_refill_rule_drops_counts_and_refills(tmp_path, refill):
    # N' = 1e12: F(N', p̂) ≤ 0.1 once N'p̂ ≳ 3.9 (log p̂ ≳ −26.3) and ≈ 1 well below, so the untrained
    # tiny model's short answers are dropped (about 2/3 of them) and its long ones kept: drops happen.
    cfg = compose_config(["objective=dco", "objective.n=1e12", "objective.threshold=0.1", f"data.refill={refill}",
                          "trainer.max_epochs=2", "trainer.limit_train_batches=null", "trainer.log_every_n_steps=1"],
                         run_dir=tmp_path)
    train(cfg)
    logged = logged_columns(tmp_path)
    dropped = logged["refill/dropped"]
    if refill == "exact":  # scored by the current weights: something is dropped in the first epoch
        assert dropped[0] > 0
    assert sum(dropped) > 0 and all(0 < f < 1 for f in logged["refill/dropped_fraction"] if f > 0)
    # the ε-rule is applied once, by the sampler: every example that reaches the loss is trained on
    assert logged["train/kept"] and all(k == 1.0 for k in logged["train/kept"])
    assert [m["epoch"] for m in RunDir(tmp_path).metrics()] == [1, 2]


def test_without_refill_the_loss_drops_and_nothing_replaces_the_dropped(tmp_path):
    cfg = compose_config(["objective=dco", "objective.n=1e12", "objective.threshold=0.1", "data.refill=off",
                          "trainer.log_every_n_steps=1"], run_dir=tmp_path)
    train(cfg)
    kept = logged_columns(tmp_path)["train/kept"]
    assert kept and min(kept) < 1.0


def test_the_mechanism_experiment_trains_ce_and_dco_side_by_side_from_one_cached_base(tmp_path):
    """`python -m src.run experiment=mechanism base_model=builtin` (tiny): the two side-by-side jobs
    share one base model (one builds it, the other waits), fine-tune on the skill digit by digit, and
    the report puts their confidence shares side by side."""
    out, bases = tmp_path / "sweep", tmp_path / "base_models"
    cmd = [sys.executable, "-m", "src.run", "experiment=mechanism", *TINY, "base_model=builtin", *TINY_BASE,
           f"base_model.cache_dir={bases}", f"hydra.sweep.dir={out}", "trainer.max_epochs=2",
           "trainer.check_val_every_n_epoch=1"]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, timeout=600)
    runs = sorted(p.parent.name for p in out.glob("*/meta.json"))
    assert runs == ["0_cross_entropy", "1_dco"]
    (base,) = [p for p in bases.iterdir() if p.suffix != ".lock"]  # built by one job, reused by the other
    for name in runs:
        metrics = read_jsonl(out / name / "metrics.jsonl")
        assert len(metrics) == 2 and set(metrics[-1]["test"]["greedy"]) == {"confident_fraction",
                                                                         "confident_wrong_fraction"}
        assert RunDir(out / name).meta()["base_model"] == str(base.resolve())
    records = read_jsonl(out / "0_cross_entropy" / "eval" / "epoch_002.jsonl")
    assert {r["unique_id"].split("/")[1] for r in records} == {"column_arithmetic"}  # data=skills
    assert all(len(r["gold"]) in (4, 5) for r in records)  # four-digit plus one-digit numbers
    report = (out / "report.md").read_text()
    assert "| CE | 2 |" in report and "| DCO N'=256 | 2 |" in report and "p̂ > 0.5, wrong" in report
    assert "| DCO N'=256 − CE |" in report and "peak epoch → last" in report  # the paired large-N differences
    assert (out / "comparison.png").stat().st_size > 0


def test_a_run_whose_last_epochs_are_never_evaluated_says_so(tmp_path, caplog):
    """trainer.max_epochs=3 with evaluation every 2 epochs: Lightning evaluates after epoch 2 only, so
    the final model goes unmeasured; the run warns at its start instead of leaving it to be noticed."""
    with caplog.at_level("WARNING", logger="src.run.train"):
        train(compose_config(["trainer.max_epochs=3", "trainer.check_val_every_n_epoch=2"], run_dir=tmp_path))
    assert [m["epoch"] for m in RunDir(tmp_path).metrics()] == [2]
    assert "the final model is not evaluated (last evaluation: epoch 2)" in caplog.text


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
