"""Stopping a run on a signal: SIGTERM, SIGINT and SIGUSR1 (SLURM's warning before a time limit).

While a run trains, `StopOnSignal` holds the handlers: a signal is only recorded, and the run stops at
the next training-step boundary by raising `Interrupted`; src/run/train.py then marks the run
`interrupted` and exits non-zero. No mid-epoch checkpoint is written: the run resumes from its last
end-of-epoch checkpoint (checkpoints/last.ckpt) and replays the interrupted epoch, which reproduces an
uninterrupted run exactly (the refill sampler's order within an epoch is not restorable mid-epoch).

Under SLURM the handler replaces Lightning's auto-requeue (whose mid-epoch `hpc_ckpt_*.ckpt` does not
reproduce): on SIGUSR1 the job is requeued with `scontrol requeue`, and the requeued job
(`SLURM_RESTART_COUNT` >= 1) resumes its run folder from the last checkpoint (`slurm_requeued`).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from contextlib import contextmanager

import lightning.pytorch as pl

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
# jobs of a sweep that a signal stopped in this process: the process's later jobs are skipped. A module
# attribute, not a global of __main__ (which a process-pool launcher would copy into every job)
stopped_jobs: list[str] = []


class Interrupted(Exception):
    def __init__(self, signum: int, step: int | None):
        self.signal, self.step = signal.Signals(signum).name, step
        super().__init__(f"stopped by {self.signal}" + (f" after step {step}" if step is not None else ""))


def slurm_requeued() -> bool:
    """True in a SLURM job that was requeued (after pre-emption or `scontrol requeue`)."""
    return int(os.environ.get("SLURM_RESTART_COUNT") or 0) > 0


def requeue_slurm_job() -> None:
    job = (f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ['SLURM_ARRAY_TASK_ID']}"
           if os.environ.get("SLURM_ARRAY_JOB_ID") else os.environ.get("SLURM_JOB_ID"))
    if not job:
        return
    try:
        done = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    except (FileNotFoundError, subprocess.TimeoutExpired) as error:
        log.warning("could not requeue SLURM job %s: %s", job, error)
        return
    if done.returncode == 0:
        log.info("requeued SLURM job %s; it resumes from the last checkpoint", job)
    else:
        log.warning("scontrol requeue %s failed (%d): %s", job, done.returncode, done.stderr.strip())


class StopOnSignal(pl.Callback):
    """`with StopOnSignal() as stop:` around `trainer.fit`, with `stop` among the trainer's callbacks.
    Installed before fit, so Lightning adds its SIGTERM notice to ours and leaves SIGUSR1 to us."""

    def __init__(self):
        self.received: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> "StopOnSignal":
        self._previous = {s: signal.signal(s, self._record) for s in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _record(self, signum, frame) -> None:
        if self.received is None:
            log.warning("received %s: stopping at the next step boundary", signal.Signals(signum).name)
        self.received = signum

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.received is not None:
            raise Interrupted(self.received, trainer.global_step)


@contextmanager
def signals_interrupt_the_job():
    """Inside the block, SIGTERM and SIGINT raise `Interrupted` wherever the job is (data loading,
    tokenizer training, writing the model): the job ends `interrupted` instead of dying with its status
    left at `running` (SIGTERM's default) or a bare KeyboardInterrupt. While a run trains, `StopOnSignal`
    holds the handlers and stops at the next step boundary instead."""
    def interrupt(signum, frame):
        raise Interrupted(signum, None)

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
