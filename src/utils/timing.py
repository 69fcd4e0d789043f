"""Seconds spent per named phase, summed over an epoch: `with watch("sampling"): ...`."""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager


class Stopwatch:
    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, phase: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start

    def take(self) -> dict[str, float]:
        """The totals so far (rounded to ms), and a fresh start."""
        totals = {phase: round(s, 3) for phase, s in self.seconds.items()}
        self.seconds.clear()
        return totals
