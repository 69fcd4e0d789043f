"""Figure helpers on hand-written run folders (no training): budget advice, legend names."""
import json
import math

import pytest

from src.figures.comparison import comparison_table
from src.figures.fig2_pareto import add_gain_intervals, advice_markdown, best_epoch_coverage, budget_advice, final_estimates
from src.figures.table1 import table1_markdown
from src.figures.plotting import run_label
from src.utils.run_dir import RunDir


def write_run(root, name, objective, coverage_by_epoch, final_ref_p=()):
    run = RunDir(root / name)
    (run.path / "eval").mkdir(parents=True)
    run.update_meta(objective=objective, status="completed")
    run.metrics_file.write_text("".join(
        json.dumps({"epoch": e, "test": {"coverage": cov}}) + "\n" for e, cov in enumerate(coverage_by_epoch, 1)))
    run.eval_rows_file(len(coverage_by_epoch)).write_text("".join(
        json.dumps({"unique_id": f"p{i}", "ref_logp": math.log(p)}) + "\n" for i, p in enumerate(final_ref_p)))
    return run


@pytest.fixture
def runs(tmp_path):
    # CE peaks at epoch 1 for N = 64 and then falls; DCO N′=64 trades pass@1 for pass@64.
    # Final-epoch reference probabilities of two test problems (metrics are not derived from them).
    ce = write_run(tmp_path, "ce", {"name": "cross_entropy"},
                   [{"1": 0.10, "64": 0.50}, {"1": 0.20, "64": 0.40}], final_ref_p=(0.01, 0.02))
    dco = write_run(tmp_path, "dco", {"name": "dco", "n": 64},
                    [{"1": 0.05, "64": 0.45}, {"1": 0.08, "64": 0.48}], final_ref_p=(0.05, 0.03))
    return [ce, dco]


def test_final_epoch_advice_picks_the_best_training_budget_per_test_budget(runs):
    advice = {a["test_n"]: a for a in budget_advice(runs)}
    assert advice[1]["train_n"] == 1 and advice[1]["gain_over_ce"] == 0
    assert advice[64]["train_n"] == 64
    assert advice[64]["gain_over_ce"] == pytest.approx(0.08)


def test_gain_intervals_bootstrap_the_paired_per_problem_differences(runs):
    advice = {a["test_n"]: a for a in add_gain_intervals(budget_advice(runs), runs)}
    # N = 1: the CE run is picked, so every paired difference is 0.
    assert advice[1]["gain_ci"] == (0.0, 0.0)
    # N = 64, DCO vs CE, per problem: 1 − (1 − p)^64 differs by 0.488 and 0.132; resampling two
    # problems puts a quarter of the means on each extreme, so the 95% interval spans both.
    differences = [(1 - 0.95**64) - (1 - 0.99**64), (1 - 0.97**64) - (1 - 0.98**64)]
    assert advice[64]["gain_ci"] == pytest.approx((min(differences), max(differences)))


def test_oracle_early_stopping_takes_each_runs_best_epoch_per_n(runs):
    assert best_epoch_coverage(runs[0]) == {1: 0.20, 64: 0.50}
    advice = {a["test_n"]: a for a in budget_advice(runs, best_epoch_coverage)}
    assert advice[64]["train_n"] == 1 and advice[64]["pass"] == 0.50


def test_advice_without_a_ce_run_has_no_gain_column(runs):
    (row,) = [a for a in budget_advice(runs[1:]) if a["test_n"] == 64]
    assert row["train_n"] == 64 and "gain_over_ce" not in row


@pytest.mark.parametrize("objective, label", [
    ({"name": "cross_entropy"}, "CE"),
    ({"name": "dco", "n": 1, "threshold": 0.0}, "CE (DCO N'=1)"),
    ({"name": "dco", "n": 1, "threshold": 0.1}, "DCO N'=1"),  # dropping makes it differ from CE
    ({"name": "dco", "n": 256, "threshold": 0.0}, "DCO N'=256"),
    ({"name": "dco", "n": 256, "threshold": 0.0, "reduction": "sum", "factor": "exact"}, "DCO N'=256"),
    ({"name": "dco", "n": 256, "threshold": 0.1, "reduction": "token_mean", "factor": "reference"},
     "DCO N'=256 token_mean reference"),
    ({"name": "cross_entropy", "reduction": "token_mean"}, "CE token_mean"),
])
def test_legend_names(objective, label):
    assert run_label({"objective": objective}) == label


def three_estimate_run(root, name, objective):
    """One epoch with all three estimates: (a) sampled up to 16, (b) and (c) for N up to 4096."""
    run = RunDir(root / name)
    run.path.mkdir(parents=True)
    run.update_meta(objective=objective, status="completed")
    test = {"coverage": {"1": 0.011, "16": 0.1, "256": 0.3, "4096": 0.5},
            "class_coverage": {"1": 0.022, "16": 0.2, "256": 0.4, "4096": 0.6},
            "pass": {"1": 0.033, "16": 0.25}, "pass_ci": {"1": [0.02, 0.05], "16": [0.2, 0.3]}}
    run.metrics_file.write_text(json.dumps({"epoch": 1, "test": test}) + "\n")
    return run


def test_every_report_labels_the_three_estimates(tmp_path):
    ce = three_estimate_run(tmp_path, "ce", {"name": "cross_entropy"})
    dco = three_estimate_run(tmp_path, "dco", {"name": "dco", "n": 256})
    table = comparison_table([ce, dco])
    assert "pass@16 a / b / c" in table and "| 25.0 / 10.0 / 20.0 |" in table
    assert "| – / 50.0 / 60.0 |" in table  # pass@4096: no sampled estimate from 16 samples
    assert "1: 3.3 [2.0, 5.0]" in table
    advice = advice_markdown(budget_advice([ce, dco]), final_estimates([ce, dco]))
    assert "a / b / c" in advice and "25.0 / 10.0 / 20.0" in advice


def test_table1_prints_the_papers_ce_numbers_for_ce_runs_only(tmp_path):
    ce = table1_markdown(three_estimate_run(tmp_path, "ce", {"name": "cross_entropy"}))
    dco = table1_markdown(three_estimate_run(tmp_path, "dco", {"name": "dco", "n": 256}))
    assert "paper CE pass@4096 (a)" in ce and "82.5" in ce  # Table 1, epoch 1
    assert "paper" not in dco and "82.5" not in dco
    assert "| 1 | 3.3 / 1.1 / 2.2 |" in dco
