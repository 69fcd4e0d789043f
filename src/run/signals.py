"""Stopping a run on a signal: SIGTERM, SIGINT and SIGUSR1 (SLURM's warning before a time limit).

While a run trains, `StopOnSignal` holds the handlers: a signal is only recorded. At the end of the
next training step after which the run can resume exactly (an optimizer step, not the epoch's last
batch) the run writes `checkpoints/last.ckpt` (atomically, src/run/checkpoint_io.py), then stops
before the next batch trains by raising `Interrupted`; src/run/train.py marks the run `interrupted`
and exits non-zero. Signalled during an epoch's last batch or its evaluation, the run finishes the
epoch (its evaluation and end-of-epoch checkpoint) and stops before the next epoch's first step.
Lightning's own SIGTERM handler is replaced while training: it would stop inside an evaluation, with
no checkpoint of that epoch.

The mid-epoch checkpoint holds the training loader's place in the epoch (src/data/resumable.py)
beside the weights, optimizer, RNG states and Lightning's progress counters, so `resume=<run>`
continues that epoch and reproduces an uninterrupted run exactly: the same metrics.jsonl and the same
step log (logs/metrics.csv, whose rows after the checkpoint are dropped before they are logged again).

Under SLURM the handler replaces Lightning's auto-requeue (whose `hpc_ckpt_*.ckpt` does not reproduce):
on SIGUSR1 the job writes the same checkpoint, stops, and is requeued with `scontrol requeue`; the
requeued job (`SLURM_RESTART_COUNT` >= 1) resumes its run folder from it (`slurm_requeued`).
Under data parallelism every rank stops at the same step: the ranks agree on whether any of them was
signalled at each step end.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import lightning.pytorch as pl

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
# jobs of a sweep that a signal stopped in this process: the process's later jobs are skipped. A module
# attribute, not a global of __main__ (which a process-pool launcher would copy into every job)
stopped_jobs: list[str] = []


class Interrupted(Exception):
    def __init__(self, signum: int | None, step: int | None):
        self.signal = signal.Signals(signum).name if signum is not None else "a signal to another rank"
        self.step = step
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
    """`with StopOnSignal(checkpoint) as stop:` around `trainer.fit`, with `stop` among the trainer's
    callbacks; `checkpoint` is the file a resume reads (<run>/checkpoints/last.ckpt). Installed before
    fit, so Lightning leaves SIGUSR1 to us (no auto-requeue)."""

    def __init__(self, checkpoint: str | Path):
        self.checkpoint = Path(checkpoint)
        self.received: int | None = None  # the signal this process got
        self.stopping = False  # some rank was signalled (every rank agrees, at a step end)
        self.checkpointed = False  # a checkpoint was written since
        self._previous: dict = {}

    def __enter__(self) -> "StopOnSignal":
        self._previous = {s: signal.signal(s, self._record) for s in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _record(self, signum, frame) -> None:
        if self.received is None:
            log.warning("received %s: checkpointing and stopping at the next step boundary",
                        signal.Signals(signum).name)
        self.received = signum

    def on_train_start(self, trainer, pl_module) -> None:
        # Lightning installs its own SIGTERM handler when fit starts, after ours: it would stop the run
        # after the step's logs (at the epoch's last batch: inside the evaluation, with no checkpoint).
        # Ours alone decides; Lightning puts ours back when fit ends, and __exit__ the previous one.
        signal.signal(signal.SIGTERM, self._record)

    def _agree(self, trainer) -> None:
        """Every rank learns whether any rank was signalled (a collective: called by all, in step)."""
        if not self.stopping:
            self.stopping = trainer.strategy.reduce_boolean_decision(self.received is not None, all=False)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._agree(trainer)  # before the end-of-epoch checkpoint (ModelCheckpoint's hooks run last)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._agree(trainer)
        if self.stopping and not self.checkpointed and resumable_step_end(trainer, batch_idx):
            trainer.save_checkpoint(self.checkpoint, weights_only=False)  # the full training state
            log.warning("checkpoint written to %s (step %d); stopping", self.checkpoint, trainer.global_step)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        if self.stopping:  # ours, or the end-of-epoch one when the signal came during the epoch's last batch
            self.checkpointed = True

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.checkpointed:
            raise Interrupted(self.received, trainer.global_step)


def resumable_step_end(trainer: pl.Trainer, batch_idx: int) -> bool:
    """A checkpoint written now resumes exactly: the optimizer has stepped (no gradients are being
    accumulated) and the epoch goes on (at its last batch, the end-of-epoch checkpoint follows the
    evaluation; a checkpoint before it would resume past the evaluation)."""
    stepped = (batch_idx + 1) % trainer.accumulate_grad_batches == 0
    return stepped and not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch


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
