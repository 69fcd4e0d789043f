"""The side-by-side report's paired differences at large N: DCO minus CE on the same held-out problems,
and each run's change since its peak, with intervals over problems (issue #18's two large-N targets)."""
import json
import math
import random

from src.figures.comparison import coverage_differences
from src.utils.run_dir import RunDir


def coverage(p: float, n: int) -> float:
    return 1 - (1 - p) ** n


def write_run(root, name, objective, p_by_epoch, ids=("a", "b", "c", "d")):
    """A run whose held-out problem `ids[i]` has answer-class p̂ = p_by_epoch[epoch][i]; its rows are
    written in a shuffled order, as the evaluation's batches may leave them."""
    run = RunDir(root / name)
    (run.path / "eval").mkdir(parents=True)
    run.update_meta(objective=objective, status="completed")
    metrics = []
    for epoch, ps in enumerate(p_by_epoch, 1):
        rows = [{"unique_id": i, "ref_logp": math.log(p) - 1.0, "class_logp": math.log(p)} for i, p in zip(ids, ps)]
        random.Random(epoch).shuffle(rows)
        run.eval_rows_file(epoch).write_text("".join(json.dumps(r) + "\n" for r in rows))
        mean = {str(n): sum(coverage(p, n) for p in ps) / len(ps) for n in (256, 4096)}
        metrics.append({"epoch": epoch, "test": {"coverage": mean, "class_coverage": mean}})
    run.metrics_file.write_text("".join(json.dumps(m) + "\n" for m in metrics))
    return run


CE = [[0.5, 0.01, 1e-3, 1e-3], [0.99, 1e-6, 1e-7, 1e-3]]  # peaks at epoch 1, then collapses
DCO = [[0.2, 0.01, 1e-3, 1e-3], [0.1, 0.01, 1e-2, 1e-3]]


def mean_delta(new, old, n):
    return 100 * sum(coverage(a, n) - coverage(b, n) for a, b in zip(new, old)) / len(new)


def test_dco_minus_ce_and_each_runs_drop_since_its_peak_are_paired_problem_by_problem(tmp_path):
    ce = write_run(tmp_path, "ce", {"name": "cross_entropy"}, CE)
    dco = write_run(tmp_path, "dco", {"name": "dco", "n": 256}, DCO)
    text = coverage_differences([ce, dco])
    assert "**Minus CE at epoch 2:**" in text
    row = next(line for line in text.splitlines() if line.startswith("| DCO N'=256 − CE |"))
    for n in (256, 4096):
        assert f"{mean_delta(DCO[1], CE[1], n):+.1f} [" in row
    ce_row = next(line for line in text.splitlines() if line.startswith("| CE | 1 → 2 |"))
    assert f"{mean_delta(CE[1], CE[0], 4096):+.1f} [" in ce_row  # the collapse: problems b and c lost
    assert mean_delta(CE[1], CE[0], 4096) < -40


def test_the_interval_brackets_the_mean_and_is_a_point_when_every_problem_moves_alike(tmp_path):
    ce = write_run(tmp_path, "ce", {"name": "cross_entropy"}, [[1e-3] * 4])
    dco = write_run(tmp_path, "dco", {"name": "dco", "n": 256}, [[2e-3] * 4])
    row = next(line for line in coverage_differences([ce, dco]).splitlines() if "− CE" in line)
    delta = f"{mean_delta([2e-3], [1e-3], 4096):+.1f}"
    assert f"{delta} [{delta}, {delta}]" in row


def test_runs_on_different_problems_are_not_paired(tmp_path):
    ce = write_run(tmp_path, "ce", {"name": "cross_entropy"}, CE)
    dco = write_run(tmp_path, "dco", {"name": "dco", "n": 256}, DCO, ids=("a", "b", "c", "e"))
    row = next(line for line in coverage_differences([ce, dco]).splitlines() if "− CE" in line)
    assert row.count("not the same problems") == 2


def test_runs_without_per_problem_rows_get_no_section(tmp_path):
    ce = write_run(tmp_path, "ce", {"name": "cross_entropy"}, CE)
    for f in (ce.path / "eval").iterdir():
        f.unlink()
    assert coverage_differences([ce]) == ""
