"""Training batches made of whole proofs, so a proof-level objective (DCOProof) sees every step.

Each epoch the proofs are dealt, in a fresh seeded order, to the currently lightest of
⌈steps / batch_size⌉ batches. The number of batches is the same every epoch (Lightning reads it
once); batch sizes differ by at most the longest proof. A proof longer than `batch_size` still
lands in one batch, so that batch is larger than nominal (the loss is normalised by the nominal
size, `src.objectives.base.reduce_losses`).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence

import numpy as np


class WholeProofBatchSampler:
    def __init__(self, proof_of_step: Sequence[int], batch_size: int, seed: int = 0):
        if batch_size < 1 or not len(proof_of_step):
            raise ValueError(f"need at least one step and batch_size ≥ 1, got {len(proof_of_step)}, {batch_size}")
        steps: dict[int, list[int]] = {}
        for index, proof in enumerate(proof_of_step):
            steps.setdefault(int(proof), []).append(index)
        self.proofs = list(steps.values())
        self.batch_size, self.seed, self.epoch = batch_size, seed, 0
        self.num_batches = min(len(self.proofs), math.ceil(len(proof_of_step) / batch_size))

    def batches(self, epoch: int) -> list[list[int]]:
        order = np.random.default_rng((self.seed, epoch)).permutation(len(self.proofs))
        lightest = [(0, b) for b in range(self.num_batches)]  # (steps so far, batch)
        batches: list[list[int]] = [[] for _ in range(self.num_batches)]
        for p in order:
            load, b = heapq.heappop(lightest)
            batches[b] += self.proofs[p]
            heapq.heappush(lightest, (load + len(self.proofs[p]), b))
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches(self.epoch)
        self.epoch += 1
        yield from batches

    def __len__(self) -> int:
        return self.num_batches

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = state["epoch"]
