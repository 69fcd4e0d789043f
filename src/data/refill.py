"""The paper's effective-batch rule as a batch sampler.

Candidates are drawn in a shuffled order and scored; those the objective no longer learns from
(F(N, p̂) ≤ ε, i.e. already confident) are dropped, and further candidates refill the batch, so every
optimizer step sees a full batch. Kept examples left over when the epoch's order runs out carry
into the next epoch. Two ways to score:

- ``exact``:  a no-grad forward pass of the current weights (the reference code's rule);
- ``cached``: the log p̂ recorded the last time the example was trained on (no extra forward pass;
  an example never trained on is always kept).

``off`` yields plain shuffled batches. The sampler knows nothing about models: `scorer` (indices →
log p̂) and `keeps` (log p̂ → bool) are plugged in by the trainer glue.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import torch

MODES = ("off", "exact", "cached")
Scorer = Callable[[Sequence[int]], torch.Tensor]
Keeps = Callable[[torch.Tensor], torch.Tensor]


class RefillBatchSampler:
    def __init__(self, num_examples: int, batch_size: int, mode: str = "off", seed: int = 0,
                 drop_last: bool = False):
        if mode not in MODES:
            raise ValueError(f"data.refill={mode!r}; accepted: {list(MODES)}")
        if num_examples < 1 or batch_size < 1:
            raise ValueError(f"need num_examples ≥ 1 and batch_size ≥ 1, got {num_examples}, {batch_size}")
        self.num_examples, self.batch_size, self.mode = num_examples, batch_size, mode
        self.seed, self.drop_last = seed, drop_last
        self.scorer: Scorer | None = None
        self.keeps: Keeps | None = None
        self.epoch = 0
        self.carry: list[int] = []
        self.cached_logp = np.full(num_examples, -np.inf)
        self.counts = {"scored": 0, "dropped": 0}

    # -- plugged in by the trainer --------------------------------------------------------
    def record(self, indices: Sequence[int], logp: torch.Tensor) -> None:
        """Remember the log p̂ an example had when it was last trained on (for ``cached``)."""
        self.cached_logp[np.asarray(indices, dtype=np.int64)] = logp.detach().double().cpu().numpy()

    def _scores(self, indices: list[int]) -> torch.Tensor:
        if self.mode == "cached":
            return torch.from_numpy(self.cached_logp[indices])
        if self.scorer is None:
            raise RuntimeError("refill=exact needs a scorer; attach one before training starts")
        return self.scorer(indices)

    # -- iteration --------------------------------------------------------------------------
    def _order(self) -> list[int]:
        rng = np.random.default_rng((self.seed, self.epoch))
        return rng.permutation(self.num_examples).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        self.epoch += 1
        self.counts = {"scored": 0, "dropped": 0}
        if self.mode == "off":
            yield from self._plain_batches(order)
            return
        if self.keeps is None:
            raise RuntimeError(f"refill={self.mode} needs the objective's `keeps` rule")
        pending, self.carry = self.carry, []
        for start in range(0, len(order), self.batch_size):
            candidates = order[start:start + self.batch_size]
            kept = self.keeps(self._scores(candidates))
            self.counts["scored"] += len(candidates)
            self.counts["dropped"] += int((~kept).sum())
            pending += [i for i, k in zip(candidates, kept.tolist()) if k]
            while len(pending) >= self.batch_size:
                batch, pending = pending[:self.batch_size], pending[self.batch_size:]
                yield batch
        self.carry = pending  # leftovers start the next epoch

    def _plain_batches(self, order: list[int]) -> Iterator[list[int]]:
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self) -> int:
        """Upper bound on batches per epoch (exact when nothing is dropped)."""
        n = self.num_examples + len(self.carry)
        return n // self.batch_size if (self.drop_last or self.mode != "off") else -(-n // self.batch_size)

    # -- resumable state ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "carry": list(self.carry), "cached_logp": self.cached_logp.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.carry = state["epoch"], list(state["carry"])
        self.cached_logp = np.asarray(state["cached_logp"], dtype=np.float64).copy()
