"""Batch samplers stopped after any training step and restored in a fresh object continue with exactly
the batches of an uninterrupted run (src/data/resumable.py), including the batch Lightning drew ahead
of the last trained step, which refill=exact scored with the weights of before that step."""
import io

import pytest
import torch

from src.data.proof_batches import WholeProofBatchSampler
from src.data.refill import RefillBatchSampler

EPOCHS = 3


class FakeTraining:
    """Stands in for the model: an example's log p̂ depends on the number of steps trained so far, so
    a candidate scored before a step is judged differently from one scored after it."""

    def __init__(self):
        self.steps = 0

    def logp(self, indices) -> torch.Tensor:
        return torch.tensor([-float((7 * i + 3 * self.steps) % 11) for i in indices], dtype=torch.float64)

    def attach(self, sampler):
        if isinstance(sampler, RefillBatchSampler):
            sampler.scorer = self.logp
            sampler.keeps = lambda logp, *batch: logp < -2.5  # drops about a quarter, depending on the step
        return sampler


def train(sampler, training, epochs, prefetch, stop_after=None):
    """Lightning's fit loop over `epochs` epochs: with `prefetch` the next batch is drawn before the
    current one trains (its fetcher does that for loaders without a length). Returns the batches
    trained and, after step `stop_after`, a checkpoint of the sampler (through torch.save and
    torch.load(weights_only=True), as Lightning stores it) at which the loop stops."""
    trained = []
    for _ in range(epochs):
        batches = iter(sampler)
        ahead = next(batches, None) if prefetch else None
        while True:
            batch = ahead if prefetch else next(batches, None)
            if batch is None:
                break
            if prefetch:
                ahead = next(batches, None)
            sampler.take()  # on_train_batch_start
            trained.append(batch)
            training.steps += 1
            if isinstance(sampler, RefillBatchSampler) and sampler.refill.records_trained_logp:
                sampler.record(batch, training.logp(batch))  # on_train_batch_end
            if len(trained) == stop_after:
                return trained, saved({"datamodule": sampler.state_dict(), "loader": sampler.iteration_state()})
    return trained, None


def saved(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def resumed(make, stop_after, prefetch):
    """The batches of a run stopped after `stop_after` steps and continued by a fresh sampler."""
    training = FakeTraining()
    before, checkpoint = train(FakeTraining.attach(training, make()), training, EPOCHS, prefetch, stop_after)
    sampler = training.attach(make())
    sampler.load_state_dict(checkpoint["datamodule"])
    sampler.load_iteration_state(checkpoint["loader"])
    epochs_left = EPOCHS - sampler.epoch + 1  # the interrupted epoch goes on
    after, _ = train(sampler, training, epochs_left, prefetch)
    return before + after


SAMPLERS = {
    "off": lambda: RefillBatchSampler(37, 4, mode="off", seed=5),
    "exact": lambda: RefillBatchSampler(37, 4, mode="exact", seed=5),
    "cached": lambda: RefillBatchSampler(37, 4, mode="cached", seed=5),
    "refilled_proofs": lambda: RefillBatchSampler([list(range(a, a + n)) for a, n in zip([0, 1, 6, 8, 15, 18, 21, 22, 26, 32],
                                                                                      [1, 5, 2, 7, 3, 3, 1, 4, 6, 2])],
                                                  5, mode="exact", seed=1),
    "proofs": lambda: WholeProofBatchSampler([p for p, n in enumerate([1, 5, 2, 7, 3, 3, 1, 4, 6, 2]) for _ in range(n)],
                                             batch_size=8, seed=1),
}


@pytest.mark.parametrize("prefetch", [True, False], ids=["prefetch", "no_prefetch"])
@pytest.mark.parametrize("kind", SAMPLERS)
def test_a_sampler_restored_after_any_step_serves_the_uninterrupted_batches(kind, prefetch):
    make = SAMPLERS[kind]
    training = FakeTraining()
    reference, _ = train(training.attach(make()), training, EPOCHS, prefetch)
    assert len(reference) > 8
    for stop_after in range(1, len(reference)):
        assert resumed(make, stop_after, prefetch) == reference, f"stopped after step {stop_after}"


def test_the_fake_drops_and_its_decisions_depend_on_when_a_candidate_is_scored():
    """So a resume that scored the drawn-ahead batch again, with the newer weights, would differ."""
    training = FakeTraining()
    sampler = training.attach(SAMPLERS["exact"]())
    list(sampler)
    assert sampler.counts["dropped"] > 0
    before = sampler.keeps(training.logp(range(37)))
    training.steps += 1
    assert not torch.equal(before, sampler.keeps(training.logp(range(37))))
