"""The paper's effective-batch rule as a batch sampler.

Candidates are drawn in a shuffled order and scored; those the objective no longer learns from
(F(N, p̂) ≤ ε, i.e. already confident) are dropped, and further candidates refill the batch, so every
optimizer step sees a full batch. Kept examples left over when the epoch's order runs out carry
into the next epoch. Two ways to score:

- ``exact``:  a no-grad forward pass of the current weights (the reference code's rule);
- ``cached``: the log p̂ recorded the last time the example was trained on (no extra forward pass;
  an example never trained on is always kept).

``off`` yields plain shuffled batches. The sampler knows nothing about models: `scorer` (indices →
log p̂) and `keeps` (log p̂, the examples' groups → bool, the objective's rule) are plugged in by the
trainer glue.

An epoch can stop after any batch and go on in another process (src/data/resumable.py): its
order, the position in it and the kept units not yet batched are explicit state.

Candidates are *groups* of examples that are served together: a plain example is a group of one, a
proof is the group of its steps (src/data/proof_datamodule.py). The rule is asked once per example,
`keeps(logp, {"proof_id": group of each example, "proof_length": its size})`, so each objective
decides at its own level: DCOProof keeps or drops a whole proof by F(N, Π p̂) (as the reference's
filter_samples.py:624-711 does), DCOStep each step by F(N_eff, p̂_step); the kept examples of a group
stay together. Sizes count examples (steps): a global batch closes once its kept groups hold
`batch_size × world_size` examples, so it can exceed that by less than the largest group. A group
drawn again while its carried copy still waits is skipped, so no batch holds a group twice.

Under data parallelism (`world_size` > 1) the rule applies to the *global* batch: every rank walks
the same candidate order, scores its share of each candidate chunk and gathers the others' scores, so
all ranks make the same keep decisions and hold the same state; each rank then trains on its own
contiguous run of whole groups of every global batch (`src.utils.distributed.group_cuts`; with groups
of one, `share`).
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from src.data.resumable import EpochBatchSampler
from src.utils.choices import Choice
from src.utils.distributed import all_gather_shares, group_cuts, share

Scorer = Callable[[Sequence[int]], torch.Tensor]  # example indices → log p̂ (float64)
Keeps = Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]  # the objective's `keeps`
Unit = list[int]  # the kept examples of one group, served together


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


class RefillBatchSampler(EpochBatchSampler):
    """`groups`: an int n (n examples, each its own group) or the example indices of each group, which
    together hold every index 0..n−1 once."""

    def __init__(self, groups: int | Sequence[Sequence[int]], batch_size: int, mode: str | Refill = Refill.OFF,
                 seed: int = 0, drop_last: bool = False, rank: int = 0, world_size: int = 1):
        super().__init__()
        self.refill = Refill.parse(mode)
        self.groups = [[i] for i in range(groups)] if isinstance(groups, int) else [[int(i) for i in g] for g in groups]
        members = sorted(i for group in self.groups for i in group)
        if not all(self.groups) or members != list(range(len(members))):
            raise ValueError("groups must be non-empty and hold every example index 0..n−1 exactly once")
        if not members or batch_size < 1:
            raise ValueError(f"need num_examples ≥ 1 and batch_size ≥ 1, got {len(members)}, {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"need 0 ≤ rank < world_size, got rank {rank} of {world_size}")
        self.num_examples, self.batch_size = len(members), batch_size
        self.group_of = np.empty(self.num_examples, dtype=np.int64)
        for number, group in enumerate(self.groups):
            self.group_of[group] = number
        self.group_length = np.array([len(group) for group in self.groups], dtype=np.int64)
        self.rank, self.world_size = rank, world_size
        self.global_batch_size = batch_size * world_size  # examples one optimizer step sees (per micro-step)
        self.seed, self.drop_last = seed, drop_last
        self.scorer: Scorer | None = None
        self.keeps: Keeps | None = None
        self.carry: list[int] = []
        self.cached_logp = np.full(self.num_examples, -np.inf)
        self.counts = {"scored": 0, "dropped": 0}
        # the current epoch: its order of groups, the next candidate's position in it (None: no more
        # batches), and the kept units not yet batched
        self.order: list[int] = []
        self.position: int | None = None
        self.pending: list[Unit] = []

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
        mine = share(candidates, self.rank, self.world_size)
        scores = self.scorer(mine) if mine else torch.zeros(0, dtype=torch.float64)
        return all_gather_shares(scores.double()).cpu()

    def _kept(self, candidates: list[Unit]) -> list[Unit]:
        """The kept examples of each candidate group (groups with none kept are dropped)."""
        examples = [i for group in candidates for i in group]
        groups = torch.from_numpy(self.group_of[examples])
        lengths = torch.from_numpy(self.group_length[groups.numpy()])
        kept = self.keeps(self._scores(examples), {"proof_id": groups, "proof_length": lengths}).tolist()
        self.counts["scored"] += len(examples)
        self.counts["dropped"] += kept.count(False)
        flags = iter(kept)
        units = [[i for i in group if next(flags)] for group in candidates]
        return [unit for unit in units if unit]

    # -- iteration (src/data/resumable.py: one iter() per epoch, resumable mid-epoch) ----------------
    def _permutation(self, epoch: int) -> list[int]:
        """Epoch `epoch`'s order of the groups."""
        return np.random.default_rng((self.seed, epoch)).permutation(len(self.groups)).tolist()

    def _start_epoch(self) -> None:
        if self.refill.active and self.keeps is None:
            raise RuntimeError(f"refill={self.refill.value} needs the objective's `keeps` rule")
        self.order, self.position = self._permutation(self.epoch), 0
        self.epoch += 1
        self.counts = {"scored": 0, "dropped": 0}
        self.pending, self.carry = self._units(self.carry), []

    def _draw(self) -> list[Unit] | None:
        """The epoch's next global batch, as whole units; None once the epoch has no more."""
        if self.position is None:
            return None
        while not (count := self._full(self.pending)) and self.position < len(self.order):
            candidates = self._candidates()
            self.pending += self._kept(candidates) if self.refill.active else candidates
        if count:
            batch, self.pending = self.pending[:count], self.pending[count:]
            return batch
        rest, self.pending, self.position = self.pending, [], None  # the order is used up
        if self.refill.active:
            self.carry = [i for unit in rest for i in unit]  # leftovers start the next epoch
            return None
        return rest if rest and not self.drop_last and len(rest) >= self.world_size else None  # the last, partial batch

    def _candidates(self) -> list[Unit]:
        """The next groups of the order holding a global batch of examples (skipping groups still
        pending)."""
        waiting = {int(self.group_of[unit[0]]) for unit in self.pending}
        candidates, size = [], 0
        while self.position < len(self.order) and size < self.global_batch_size:
            group = self.order[self.position]
            self.position += 1
            if group not in waiting:
                candidates.append(list(self.groups[group]))
                size += int(self.group_length[group])
        return candidates

    def _full(self, pending: list[Unit]) -> int:
        """How many pending units make the next global batch: a global batch of examples and at least
        one unit per rank (0: not enough yet)."""
        size = 0
        for count, unit in enumerate(pending, 1):
            size += len(unit)
            if size >= self.global_batch_size and count >= self.world_size:
                return count
        return 0

    def _serve(self, batch: list[Unit]) -> list[int]:
        """This rank's share of a global batch: a contiguous run of whole units, balanced by examples."""
        cuts = group_cuts([len(unit) for unit in batch], self.world_size)
        return [i for unit in batch[cuts[self.rank]:cuts[self.rank + 1]] for i in unit]

    def _units(self, indices: list[int]) -> list[Unit]:
        """Carried examples back into units: runs of examples of the same group."""
        units: list[Unit] = []
        for i in indices:
            if units and self.group_of[units[-1][0]] == self.group_of[i]:
                units[-1].append(i)
            else:
                units.append([i])
        return units

    def __len__(self) -> int:
        """Batches per epoch, known only without refilling, for groups of one. Drops shorten a refilled
        epoch by an amount known only at its end, and Lightning validates after batch number len(): an
        upper bound would silently skip validation. So a refilling sampler has no length, and Lightning
        treats its loader as unsized (validating when it runs out). Nor has one of larger groups, whose
        batch count depends on the order (src.data.proof_batches.WholeProofBatchSampler has one)."""
        if self.refill.active:
            raise TypeError(f"refill={self.refill.value}: drops shorten epochs unpredictably, so there is no length")
        if len(self.groups) != self.num_examples:
            raise TypeError("batches of whole groups vary in number with the order, so there is no length")
        full, rest = divmod(self.num_examples, self.global_batch_size)
        return full + int(rest > 0 and not self.drop_last and rest >= self.world_size)

    # -- resumable state ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """What lasts across epochs (the datamodule saves it); plain types and tensors only, so
        checkpoints load with torch.load(weights_only=True)."""
        return {"epoch": self.epoch, "carry": list(self.carry), "cached_logp": torch.from_numpy(self.cached_logp.copy())}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.carry = state["epoch"], list(state["carry"])
        self.cached_logp = torch.as_tensor(state["cached_logp"], dtype=torch.float64).numpy().copy()

    def _place(self) -> dict:
        return {"position": self.position, "pending": [list(unit) for unit in self.pending], "counts": dict(self.counts)}

    def _load_place(self, state: dict) -> None:
        self.order = self._permutation(self.epoch - 1)
        self.position, self.counts = state["position"], dict(state["counts"])
        self.pending = [list(unit) for unit in state["pending"]]
