"""Hydra callback for sweeps whose jobs run side by side in worker processes (`hydra/launcher=joblib`,
the main job's launcher): a signal to the sweep reaches every job it is running.

The joblib launcher runs each job in a loky worker process while the sweep's own process waits. A
SIGTERM or SIGINT sent to that process alone (`kill`, a scheduler stopping the sweep) would kill it
and leave the workers running, with no report. Here the sweep's process passes the signal on to its
workers instead and goes on waiting: each job stops at its next step boundary (or wherever it is,
src/run/signals.py) as `interrupted`, a worker skips the jobs it had not started, and the sweep still
ends with its report and a non-zero exit (src/run/report_callback.py). A signal sent to the whole
process group (Ctrl-C in a terminal) reaches the workers directly; they then get it once more, which
changes nothing.
"""
from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


def worker_processes(pid: int) -> list[int]:
    """The loky worker processes among `pid`'s children (Linux /proc; none where it is absent)."""
    workers = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:  # already gone
                continue
            if b"loky" in command and b"resource_tracker" not in command:
                workers.append(int(child))
    return workers


class ForwardSignalsToJobs(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if "joblib" in str(config.hydra.launcher.get("_target_", "")):
            for s in (signal.SIGTERM, signal.SIGINT):
                signal.signal(s, self._forward)

    @staticmethod
    def _forward(signum, frame) -> None:
        workers = worker_processes(os.getpid())
        log.warning("received %s: passing it to the %d running job(s); the sweep ends with its report",
                    signal.Signals(signum).name, len(workers))
        for pid in workers:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
