"""Peak memory of one benchmark phase, as the rise over the phase's start.

GPU: the CUDA allocator's peak (`torch.cuda.max_memory_allocated`). CPU: the process's resident set,
sampled every millisecond in a thread; on entering a phase glibc hands the memory earlier phases freed
back to the OS (`malloc_trim`), so the rise counts this phase's tensors, not an earlier phase's
high-water mark. Nothing about the allocator is changed: importing this module leaves the timings of
the benchmarks that use it as they are.

    with PeakMemory(device) as peak:
        run_phase()
    print(f"{peak.mib:.0f} MiB")
"""
from __future__ import annotations

import ctypes
import os
import threading

import torch


def release_freed_memory() -> None:
    """Give freed heap memory back to the OS now (glibc); elsewhere a no-op, and the CPU figures may
    then include earlier phases' freed memory."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    def __init__(self, device: str | torch.device = "cpu", interval_s: float = 0.001):
        self.device, self.interval_s = torch.device(device), interval_s
        self.mib = float("nan")

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            return self
        release_freed_memory()
        self._start = self._peak = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, resident_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, resident_bytes())
        self.mib = (peak - self._start) / 2**20
