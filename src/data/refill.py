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

Under data parallelism (`world_size` > 1) the rule applies to the *global* batch of
`batch_size × world_size` examples: every rank walks the same candidate order, scores its share of
each candidate chunk and gathers the others' scores, so all ranks make the same keep decisions and
hold the same state; each rank then trains on its own contiguous share of every global batch.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from src.utils.choices import Choice
from src.utils.distributed import all_gather_shares, share
Scorer = Callable[[Sequence[int]], torch.Tensor]
Keeps = Callable[[torch.Tensor], torch.Tensor]


class Refill(Choice, key="data.refill"):
    """The effective-batch rule (`data.refill`), and what each mode asks of the training loop."""

    OFF = "off"
    EXACT = "exact"
    CACHED = "cached"

    @property
    def active(self) -> bool:
        """Batches are refilled after drops (and the sampler has no length)."""
        return self is not Refill.OFF

    @property
    def scores_candidates(self) -> bool:
        """Candidates are scored by the current weights before each batch (a no-grad forward pass)."""
        return self is Refill.EXACT

    @property
    def records_trained_logp(self) -> bool:
        """Candidates are judged by the log p̂ recorded when they were last trained on."""
        return self is Refill.CACHED


class RefillBatchSampler:
    def __init__(self, num_examples: int, batch_size: int, mode: str | Refill = Refill.OFF, seed: int = 0,
                 drop_last: bool = False, rank: int = 0, world_size: int = 1):
        self.refill = Refill.parse(mode)
        if num_examples < 1 or batch_size < 1:
            raise ValueError(f"need num_examples ≥ 1 and batch_size ≥ 1, got {num_examples}, {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"need 0 ≤ rank < world_size, got rank {rank} of {world_size}")
        self.num_examples, self.batch_size = num_examples, batch_size
        self.rank, self.world_size = rank, world_size
        self.global_batch_size = batch_size * world_size  # what one optimizer step sees (per micro-step)
        self.seed, self.drop_last = seed, drop_last
        self.scorer: Scorer | None = None
        self.keeps: Keeps | None = None
        self.epoch = 0
        self.carry: list[int] = []
        self.cached_logp = np.full(num_examples, -np.inf)
        self.counts = {"scored": 0, "dropped": 0}

    # -- plugged in by the trainer --------------------------------------------------------
    def record(self, indices: Sequence[int], logp: torch.Tensor) -> None:
        """Remember the log p̂ an example had when it was last trained on (for ``cached``); every rank
        records the whole global batch."""
        indices = all_gather_shares(torch.as_tensor(list(indices), dtype=torch.long))
        logp = all_gather_shares(logp.detach().double())
        self.cached_logp[indices.cpu().numpy()] = logp.cpu().numpy()

    def _scores(self, candidates: list[int]) -> torch.Tensor:
        if self.refill.records_trained_logp:
            return torch.from_numpy(self.cached_logp[candidates])
        if self.scorer is None:
            raise RuntimeError("refill=exact needs a scorer; attach one before training starts")
        mine = self._share(candidates)
        scores = self.scorer(mine) if mine else torch.zeros(0, dtype=torch.float64)
        return all_gather_shares(scores.double()).cpu()

    def _share(self, batch: list[int]) -> list[int]:
        return share(batch, self.rank, self.world_size)

    # -- iteration --------------------------------------------------------------------------
    def _order(self) -> list[int]:
        rng = np.random.default_rng((self.seed, self.epoch))
        return rng.permutation(self.num_examples).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        self.epoch += 1
        self.counts = {"scored": 0, "dropped": 0}
        if not self.refill.active:
            yield from self._plain_batches(order)
            return
        if self.keeps is None:
            raise RuntimeError(f"refill={self.refill.value} needs the objective's `keeps` rule")
        pending, self.carry = self.carry, []
        size = self.global_batch_size
        for start in range(0, len(order), size):
            candidates = order[start:start + size]
            kept = self.keeps(self._scores(candidates))
            self.counts["scored"] += len(candidates)
            self.counts["dropped"] += int((~kept).sum())
            pending += [i for i, k in zip(candidates, kept.tolist()) if k]
            while len(pending) >= size:
                batch, pending = pending[:size], pending[size:]
                yield self._share(batch)
        self.carry = pending  # leftovers start the next epoch

    def _plain_batches(self, order: list[int]) -> Iterator[list[int]]:
        for start in range(0, len(order), self.global_batch_size):
            batch = order[start:start + self.global_batch_size]
            if self._serves(len(batch)):
                yield self._share(batch)

    def _serves(self, size: int) -> bool:
        """A full global batch always; a last, partial one unless drop_last or some rank would get none."""
        return size == self.global_batch_size or (not self.drop_last and size >= self.world_size)

    def __len__(self) -> int:
        """Batches per epoch, known only without refilling. Drops shorten a refilled epoch by an
        amount known only at its end, and Lightning validates after batch number len(): an upper
        bound would silently skip validation. So a refilling sampler has no length, and Lightning
        treats its loader as unsized (validating when it runs out)."""
        if self.refill.active:
            raise TypeError(f"refill={self.refill.value}: drops shorten epochs unpredictably, so there is no length")
        full, rest = divmod(self.num_examples, self.global_batch_size)
        return full + int(rest > 0 and self._serves(rest))

    # -- resumable state ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Plain types and tensors only, so checkpoints load with torch.load(weights_only=True)."""
        return {"epoch": self.epoch, "carry": list(self.carry), "cached_logp": torch.from_numpy(self.cached_logp.copy())}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.carry = state["epoch"], list(state["carry"])
        self.cached_logp = torch.as_tensor(state["cached_logp"], dtype=torch.float64).numpy().copy()
