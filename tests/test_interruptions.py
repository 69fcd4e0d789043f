"""Signals, SLURM requeue, disk full and sweeps, as subprocesses (issue 13): a signalled run writes a
checkpoint at the next step boundary, stops with status `interrupted` and a non-zero exit, and its
resume reproduces an uninterrupted run exactly (metrics.jsonl and the step log logs/metrics.csv)."""
import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, TINY
from test_reliability import EPOCHS, run_cli
from src.utils.run_dir import RunDir, find_runs


# refill=exact with a threshold that drops examples from epoch 2 on (the reference drops some): a batch
# Lightning drew ahead of the signalled step was scored by the weights of before that step, so the
# resume must serve it again rather than draw anew
DROPPING = ["data.refill=exact", "objective=dco", "objective.n=100000", "objective.threshold=0.5",
            "trainer.log_every_n_steps=1"]
SIGNAL_STEP = 14  # epoch 1 has 10 steps (160 examples in batches of 16): 4 steps into epoch 2


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted 3-epoch run that drops and refills."""
    path = tmp_path_factory.mktemp("reference") / "run"
    run_cli(path, *DROPPING)
    assert float(epoch_rows(path, "refill/dropped")[1]) > 0
    return path


def signalled_at(step, signum, run_dir, env=None):
    """Run DROPPING with a callback that sends the process `signum` at the end of step `step`; the
    finished process, then the overrides a resume must repeat."""
    overrides = [*DROPPING, "+callbacks.signal={_target_:tests.signal_at_step.SignalAtStep,"
                 f"step:{step},signal_name:{signal.Signals(signum).name}}}"]
    return cli(run_dir, *overrides, env=env), overrides


def cli(run_dir, *overrides, env=None):
    cmd = [sys.executable, "-m", "src.run", *TINY, *EPOCHS, f"hydra.run.dir={run_dir}", *overrides]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def without_timing(metrics):
    return [{k: v for k, v in m.items() if k != "seconds"} for m in metrics]  # wall-clock per epoch differs


def same_results(run_dir, reference):
    assert RunDir(run_dir).completed
    assert without_timing(RunDir(run_dir).metrics()) == without_timing(RunDir(reference).metrics())
    assert step_log(run_dir) == step_log(reference)


def step_log(run_dir):
    with open(run_dir / "logs/metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if not k.startswith("seconds")} for row in csv.DictReader(f)]


def epoch_rows(run_dir, key):
    return [row[key] for row in step_log(run_dir) if row.get(key)]


def last_checkpoint(run_dir) -> dict:
    import torch

    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)


def assert_checkpointed_mid_epoch(run_dir):
    """last.ckpt is the one written at the signal: 4 batches into epoch 2, holding the batch the
    loader had drawn ahead of the last trained step."""
    checkpoint = last_checkpoint(run_dir)
    fit_loop = checkpoint["loops"]["fit_loop"]
    assert checkpoint["global_step"] == SIGNAL_STEP and checkpoint["epoch"] == 1
    assert fit_loop["epoch_loop.batch_progress"]["current"]["processed"] == SIGNAL_STEP - 10
    [loader] = fit_loop["state_dict"]["combined_loader"]
    assert len(loader["ahead"]) == 1 and len(loader["ahead"][0]) == 16


def interrupted_with(run, process, signum):
    _, stderr = process.communicate(timeout=600)
    meta = RunDir(run).meta()
    assert process.returncode != 0 and f"continue it with resume={run}" in stderr
    assert meta["status"] == "interrupted" and f"stopped by {signal.Signals(signum).name}" in meta["reason"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_epoch_checkpoints_there_and_the_resume_matches(tmp_path, reference, signum):
    run = tmp_path / "run"
    process, overrides = signalled_at(SIGNAL_STEP, signum, run)
    interrupted_with(run, process, signum)
    assert len(RunDir(run).metrics()) == 1
    assert_checkpointed_mid_epoch(run)
    run_cli(run, *overrides, f"resume={run}")
    same_results(run, reference)


def test_a_signal_at_an_epochs_last_step_finishes_the_epoch_first(tmp_path, reference):
    """Step 10 ends epoch 1: its evaluation and end-of-epoch checkpoint come before the stop (a
    checkpoint before the evaluation would resume past it)."""
    run = tmp_path / "run"
    process, overrides = signalled_at(10, signal.SIGTERM, run)
    interrupted_with(run, process, signal.SIGTERM)
    assert [m["epoch"] for m in RunDir(run).metrics()] == [1]
    checkpoint = last_checkpoint(run)
    assert checkpoint["global_step"] == 10 and checkpoint["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"] == 1
    run_cli(run, *overrides, f"resume={run}")
    same_results(run, reference)


def test_simulated_slurm_requeue_resumes_mid_epoch_to_the_same_metrics(tmp_path, reference):
    """SIGUSR1 (SLURM's warning before the time limit): the mid-epoch checkpoint, no Lightning hpc
    checkpoint, the job asks `scontrol requeue`, and the requeued job (SLURM_RESTART_COUNT=1, same
    command) finishes the run."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "scontrol_calls"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    (bin_dir / "scontrol").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_ID": "4242", "SLURM_NTASKS": "1",
           "SLURM_JOB_NAME": "train", "SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NODEID": "0",
           "SLURM_NODELIST": "localhost"}
    run = tmp_path / "run"
    process, overrides = signalled_at(SIGNAL_STEP, signal.SIGUSR1, run, env)
    process.communicate(timeout=600)
    assert process.returncode != 0 and RunDir(run).meta()["status"] == "interrupted"
    assert calls.read_text().split() == ["requeue", "4242"]
    assert not list(run.rglob("hpc_ckpt_*"))
    assert_checkpointed_mid_epoch(run)
    _, stderr = (requeued := cli(run, *overrides, env={**env, "SLURM_RESTART_COUNT": "1"})).communicate(timeout=600)
    assert requeued.returncode == 0, stderr[-3000:]
    same_results(run, reference)
    assert RunDir(run).meta()["resumed"]


FILL_DISK = """
import resource, signal, sys, torch
from src.run.checkpoint_io import AtomicCheckpointIO
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails (EFBIG) as on a full disk
io, path = AtomicCheckpointIO(), sys.argv[1]
io.save_checkpoint({"w": torch.arange(10.0)}, path)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
try:
    io.save_checkpoint({"w": torch.zeros(100_000)}, path)
except Exception:  # torch reports the EFBIG as an OSError or a RuntimeError, depending on where it hits
    print("write failed")
print(io.load_checkpoint(path)["w"].tolist())
"""


def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path):
    done = subprocess.run([sys.executable, "-c", FILL_DISK, str(tmp_path / "last.ckpt")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["write failed", str([float(i) for i in range(10)])]
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temporary file left behind


@pytest.fixture
def full_disk(tmp_path):
    """A 256 kB tmpfs (needs root; skipped elsewhere) holding a good checkpoint, filled to ~100 kB free."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_disk_full_during_a_checkpoint_write_keeps_the_previous_checkpoint(full_disk):
    import torch

    from src.run.checkpoint_io import AtomicCheckpointIO

    io, path = AtomicCheckpointIO(), full_disk / "last.ckpt"
    io.save_checkpoint({"w": torch.arange(10.0)}, path)
    free = os.statvfs(full_disk)
    (full_disk / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 100_000))
    with pytest.raises((OSError, RuntimeError)):
        io.save_checkpoint({"w": torch.zeros(100_000)}, path)  # 400 kB
    assert io.load_checkpoint(path)["w"].tolist() == [float(i) for i in range(10)]
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "last.ckpt"]


def sweep(sweep_dir, *overrides):
    cmd = [sys.executable, "-m", "src.run", "-m", f"hydra.sweep.dir={sweep_dir}", *TINY,
           "report={_target_:src.figures.comparison.comparison_markdown}", *overrides]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_sweep_with_a_failed_job_still_reports_and_exits_non_zero(tmp_path):
    """Job 1's data has a byte that is not UTF-8: found only when the job reads it, after the checks."""
    good, bad = REPO / "tests" / "fixtures" / "math_tiny", tmp_path / "bad_data"
    shutil.copytree(good, bad)
    with open(bad / "train.jsonl", "ab") as f:
        f.write(b"\xff\n")
    sweep_dir = tmp_path / "sweep"
    process = sweep(sweep_dir, "data.source=path", f"data.path={good},{bad}", "data.eval_problems=4")
    _, err = process.communicate(timeout=600)
    assert process.returncode != 0
    done, left_out = find_runs(sweep_dir)
    assert len(done) == 1 and len(left_out) == 1 and left_out[0].meta()["status"] == "failed"
    report = (sweep_dir / "report.md").read_text()
    assert f"- `{left_out[0].path.name}`: failed: DataFormatError: " in report
    assert "1 job(s) did not complete" in err


def test_sigterm_stops_a_sweep_which_still_reports_and_exits_non_zero(tmp_path):
    process = sweep(tmp_path, *EPOCHS, "seed=0,1,2")
    deadline = time.time() + 600
    while not list(tmp_path.glob("1_*/checkpoints/last.ckpt")):
        assert process.poll() is None and time.time() < deadline, "the sweep ended before it could be signalled"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=600)
    assert process.returncode != 0 and "2 job(s) did not complete" in err
    done, left_out = find_runs(tmp_path)
    assert len(done) == 1 and [r.meta().get("status") for r in left_out] == ["interrupted", None]
    report = (tmp_path / "report.md").read_text()
    assert "interrupted: stopped by SIGTERM" in report and "not started" in report
