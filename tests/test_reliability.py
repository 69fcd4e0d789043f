"""Killed runs resume with nothing lost, runs are deterministic, bad input fails early and clearly."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hydra.errors import ConfigCompositionException, InstantiationException
from hydra.utils import instantiate

from conftest import REPO, TINY, compose_config
from src.report import write_report
from src.run import train
from src.utils.run_dir import RunDir

EPOCHS = ["trainer.max_epochs=3", "trainer.limit_train_batches=null", "data.synthetic.n_train=160"]


def run_cli(run_dir, *extra, wait=True):
    cmd = [sys.executable, "-m", "src.run", *TINY, *EPOCHS, f"hydra.run.dir={run_dir}", *extra]
    if wait:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        return done
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def results(run_dir) -> list[dict]:
    """A run's metrics without the seconds each epoch took (the one part that is not reproducible)."""
    return [{k: v for k, v in m.items() if k != "seconds"} for m in RunDir(run_dir).metrics()]


def test_sigkilled_run_resumes_to_the_same_metrics(tmp_path):
    """SIGKILL after the first epoch's checkpoint, resume with `resume=<run folder>`: the finished
    run's metrics equal an uninterrupted run's exactly (CPU, same seed: the interrupted epoch is
    replayed from the checkpoint with the same sampler order, weights, optimizer and RNG states)."""
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    run_cli(reference)
    process = run_cli(killed, wait=False)
    deadline = time.time() + 300
    while not (killed / "checkpoints" / "last.ckpt").exists():
        assert process.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not RunDir(killed).completed
    run_cli(killed, f"resume={killed}")
    assert RunDir(killed).completed and RunDir(killed).meta()["resumed"]
    assert results(killed) == results(reference)


def test_same_seed_same_config_gives_identical_metrics(tmp_path):
    for name in ("a", "b"):
        train(compose_config([], run_dir=tmp_path / name))
    assert results(tmp_path / "a") == results(tmp_path / "b")


def test_reports_use_only_completed_runs_and_name_the_others(tmp_path):
    train(compose_config([], run_dir=tmp_path / "0_done"))
    train(compose_config([], run_dir=tmp_path / "1_killed"))
    RunDir(tmp_path / "1_killed").update_meta(status="running")  # as a killed run leaves it
    report = write_report(tmp_path).read_text()
    pass_rows = [line for line in report.splitlines() if line.startswith("| CE | 1 |") and " / " in line]
    assert "- `1_killed`: running" in report and len(pass_rows) == 1  # one run in the a / b / c table


def test_completed_runs_are_not_retrained_on_resume(tmp_path):
    train(compose_config([], run_dir=tmp_path))
    before = (tmp_path / "metrics.jsonl").stat().st_mtime_ns
    train(compose_config([f"resume={tmp_path}"], run_dir=tmp_path))
    assert (tmp_path / "metrics.jsonl").stat().st_mtime_ns == before


def test_unreadable_checkpoint_is_named(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="last.ckpt is unreadable"):
        train(compose_config([f"resume={tmp_path}"], run_dir=tmp_path))


def test_unknown_config_option_lists_the_valid_ones():
    with pytest.raises(ConfigCompositionException) as error:
        compose_config(["objective=dcoo"])
    assert "cross_entropy" in str(error.value.__cause__ or error.value) and "dco" in str(error.value.__cause__ or error.value)


@pytest.mark.parametrize("override,message", [
    ("objective.n=0.5", "n must be a finite number >= 1"),
    ("objective.threshold=1.0", "threshold must be a number in"),
])
def test_bad_objective_values_fail_with_the_accepted_range(override, message):
    cfg = compose_config(["objective=dco", override])
    with pytest.raises(InstantiationException, match=message) as error:  # Hydra adds the config key
        instantiate(cfg.objective)
    assert "full_key: objective" in str(error.value)


def test_pass_at_k_beyond_the_sample_count_is_refused(tmp_path):
    cfg = compose_config(["evaluation.samples_per_problem=4", "evaluation.pass_ks=[1,16]"], run_dir=tmp_path)
    with pytest.raises(InstantiationException, match="pass@k needs at least k samples"):
        train(cfg)


def test_malformed_data_file_error_names_file_and_line(tmp_path):
    data = tmp_path / "math"
    data.mkdir()
    good = json.dumps({"problem": "1+1?", "solution": "\\boxed{2}", "answer": "2", "subject": "Algebra",
                       "level": 1, "unique_id": "a"})
    (data / "train.jsonl").write_text(good + "\n{not json\n")
    (data / "test.jsonl").write_text(good.replace('"a"', '"b"') + "\n")
    cfg = compose_config([f"data.path={data}", "data.source=path"], run_dir=tmp_path / "run")
    with pytest.raises(ValueError, match=r"train.jsonl:2"):
        train(cfg)


def test_empty_split_is_an_error(tmp_path):
    data = tmp_path / "math"
    data.mkdir()
    (data / "train.jsonl").write_text("")
    (data / "test.jsonl").write_text("")
    cfg = compose_config([f"data.path={data}", "data.source=path"], run_dir=tmp_path / "run")
    with pytest.raises(ValueError, match="empty"):
        train(cfg)


def test_a_report_target_read_from_a_run_folder_must_be_a_figure_function(tmp_path):
    """A run folder's config.yaml names its report; anything outside src.figures is refused, not called."""
    train(compose_config([], run_dir=tmp_path / "run"))
    config = (tmp_path / "run" / "config.yaml")
    config.write_text(config.read_text().replace("report: null", "report:\n  _target_: os.system"))
    with pytest.raises(ValueError, match="must be functions in src.figures"):
        write_report(tmp_path)
