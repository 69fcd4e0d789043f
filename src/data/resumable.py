"""Training batch samplers whose place in an epoch survives a checkpoint, so a run stopped mid-epoch
resumes exactly where it stopped (issue 13).

Lightning stores the state of a *resumable* training loader (one with `state_dict`/`load_state_dict`)
in every checkpoint and, when it resumes mid-epoch, loads it before the epoch's iterator is made; its
progress counters then end the epoch after the remaining batches. `ResumableDataLoader` is such a
loader: its state is its batch sampler's place in the current epoch (`iteration_state`). What lasts
across epochs (the epoch count; for refill the carried examples and cached log p̂) is the sampler's
`state_dict`, which the datamodule saves: Lightning restores it from every checkpoint, including the
end-of-epoch ones for which it does not load loader states.

Batches are drawn *ahead* of training: Lightning's fetcher asks for batch k+1 before step k runs when
the loader has no length, and with `data.refill=exact` that draw scored candidates with the weights of
before step k's update. So the trainer reports each batch it takes for a step (`take`, called by
src.run.callbacks.TakeTrainingBatches), a checkpoint keeps the batches drawn but not yet taken, and the
resumed epoch serves those again before it draws on. The resumed run then sees the uninterrupted run's
batches, scoring calls and random draws.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from itertools import chain
from typing import Any, Iterator

from torch.utils.data import DataLoader


class EpochBatchSampler(ABC):
    """One `iter()` per epoch; batches are drawn one at a time by `_draw` from state kept on the
    object (not in generator locals), so an epoch can stop anywhere and go on in another process.

    Subclasses implement `_start_epoch` (begin epoch number `self.epoch`, then count it),
    `_draw` (the next batch of all ranks, in plain types, or None when the epoch has no more),
    `_serve` (this rank's indices of such a batch), `_place` and `_load_place` (the state `_draw`
    continues from, after `_start_epoch` of epoch `self.epoch - 1`)."""

    def __init__(self) -> None:
        self.epoch = 0  # epochs started
        self.ahead: list[Any] = []  # batches drawn but not yet taken by the trainer, oldest first
        self._continues = False  # a restored place: the next iter() finishes its epoch

    def __iter__(self) -> Iterator[list[int]]:
        if self._continues:
            self._continues = False
        else:
            self._start_epoch()
            self.ahead = []
        replay, self.ahead = self.ahead, []
        for batch in chain(replay, iter(self._draw, None)):
            self.ahead.append(batch)
            yield self._serve(batch)

    def take(self) -> None:
        """The trainer took the oldest batch drawn for a training step."""
        if self.ahead:
            del self.ahead[0]

    def iteration_state(self) -> dict:
        """Where the current epoch stands: plain types only (checkpoints load with weights_only=True)."""
        return {"ahead": list(self.ahead), **self._place()}

    def load_iteration_state(self, state: dict) -> None:
        """Continue the epoch `state` describes (the next iter() does not start a new one)."""
        self.ahead = list(state["ahead"])
        self._load_place(state)
        self._continues = True

    # -- implemented by each sampler ----------------------------------------------------------
    @abstractmethod
    def _start_epoch(self) -> None: ...

    @abstractmethod
    def _draw(self) -> Any: ...

    @abstractmethod
    def _serve(self, batch: Any) -> list[int]: ...

    @abstractmethod
    def _place(self) -> dict: ...

    @abstractmethod
    def _load_place(self, state: dict) -> None: ...


class ResumableDataLoader(DataLoader):
    """A training DataLoader over an `EpochBatchSampler`; Lightning saves its state (the sampler's
    place in the epoch) with every checkpoint and loads it when a run resumes mid-epoch."""

    def state_dict(self) -> dict:
        return self.batch_sampler.iteration_state()

    def load_state_dict(self, state: dict) -> None:
        self.batch_sampler.load_iteration_state(state)
