"""Training batches made of whole proofs, so a proof-level objective (DCOProof) sees every step.

Each epoch the proofs are dealt, in a fresh seeded order, to the currently lightest of a fixed
number of batches (about steps / batch_size, a multiple of the number of ranks). The number of
batches is the same every epoch (Lightning reads it once); batch sizes differ by at most the
longest proof. A proof longer than `batch_size` still lands in one batch, so that batch is larger
than nominal (the loss is normalised by the nominal size, `src.objectives.base.reduce_losses`).
Under data parallelism every rank deals the same batches and takes every `world_size`-th one.
An epoch can stop after any batch and go on in another process (src/data/resumable.py).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence

import numpy as np

from src.data.resumable import EpochBatchSampler


class WholeProofBatchSampler(EpochBatchSampler):
    def __init__(self, proof_of_step: Sequence[int], batch_size: int, seed: int = 0, rank: int = 0,
                 world_size: int = 1):
        super().__init__()
        steps: dict[int, list[int]] = {}
        for index, proof in enumerate(proof_of_step):
            steps.setdefault(int(proof), []).append(index)
        self.proofs = list(steps.values())
        if batch_size < 1 or len(self.proofs) < world_size:
            raise ValueError(f"need batch_size ≥ 1 and at least one proof per rank, got batch_size={batch_size}, "
                             f"{len(self.proofs)} proofs, {world_size} ranks")
        self.batch_size, self.seed = batch_size, seed
        self.rank, self.world_size = rank, world_size
        per_rank = math.ceil(len(proof_of_step) / (batch_size * world_size))
        self.batches_per_rank = max(1, min(per_rank, len(self.proofs) // world_size))
        self.dealt: list[list[int]] = []  # the current epoch's batches (all ranks) and the next step in them
        self.position = 0

    def batches(self, epoch: int) -> list[list[int]]:
        """Every rank's batches of `epoch`, dealt the same way on every rank."""
        count = self.batches_per_rank * self.world_size
        order = np.random.default_rng((self.seed, epoch)).permutation(len(self.proofs))
        lightest = [(0, b) for b in range(count)]  # (steps so far, batch)
        batches: list[list[int]] = [[] for _ in range(count)]
        for p in order:
            load, b = heapq.heappop(lightest)
            batches[b] += self.proofs[p]
            heapq.heappush(lightest, (load + len(self.proofs[p]), b))
        return batches

    def _start_epoch(self) -> None:
        self.dealt, self.position = self.batches(self.epoch), 0
        self.epoch += 1

    def _draw(self) -> list[list[int]] | None:
        """The next step's batches, one per rank."""
        if self.position >= self.batches_per_rank:
            return None
        step = self.dealt[self.position * self.world_size:(self.position + 1) * self.world_size]
        self.position += 1
        return step

    def _serve(self, step: list[list[int]]) -> list[int]:
        return step[self.rank]

    def __len__(self) -> int:
        return self.batches_per_rank

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])

    def _place(self) -> dict:
        return {"position": self.position}

    def _load_place(self, state: dict) -> None:
        self.dealt, self.position = self.batches(self.epoch - 1), int(state["position"])
