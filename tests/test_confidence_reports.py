"""The main job's and Figure 1's reports show CE's and DCO's confident fractions side by side."""
import json

from src.figures.comparison import comparison_table
from src.figures.fig1_confidence import confident_by_run_table
from src.utils.run_dir import RunDir


def write_run(root, name, objective, greedy_by_epoch):
    run = RunDir(root / name)
    run.path.mkdir(parents=True)
    run.update_meta(objective=objective, status="completed")
    run.metrics_file.write_text("".join(
        json.dumps({"epoch": e, "test": {"coverage": {"1": 0.1}, **({"greedy": g} if g else {})}}) + "\n"
        for e, g in enumerate(greedy_by_epoch, 1)))
    return run


def test_both_tables_show_each_runs_confident_shares_per_epoch(tmp_path):
    ce = write_run(tmp_path, "ce", {"name": "cross_entropy"}, [
        {"confident_fraction": 0.10, "confident_wrong_fraction": 0.04},
        {"confident_fraction": 0.30, "confident_wrong_fraction": 0.12}])
    dco = write_run(tmp_path, "dco", {"name": "dco", "n": 256}, [
        {"confident_fraction": 0.05, "confident_wrong_fraction": 0.01}, None])  # epoch 2: not recorded
    table = comparison_table([ce, dco], ns=("1",))
    assert "| CE | 2 | – / 10.0 / – | – | – | 30.0 | 12.0 |" in table  # pass@1 as a / b / c: only b recorded
    assert "| DCO N'=256 | 1 | – / 10.0 / – | – | – | 5.0 | 1.0 |" in table
    assert "| DCO N'=256 | 2 | – / 10.0 / – | – | – | – | – |" in table
    side_by_side = confident_by_run_table([ce, dco])
    assert "| 1 | 10.0 / 4.0 | 5.0 / 1.0 |" in side_by_side
    assert "| 2 | 30.0 / 12.0 | – |" in side_by_side
