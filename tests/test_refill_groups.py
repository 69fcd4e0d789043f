"""The effective-batch rule over groups of examples (a proof = its steps), against a brute-force
walk of the reference code's rule (refine/training/train.py:736-799, filter_samples.py:624-711)."""
import math

import numpy as np
import pytest
import torch

from src.data.refill import RefillBatchSampler
from src.objectives.proof import DCOProof, DCOStep
from src.utils.distributed import group_cuts, share

LENGTHS = [1, 3, 2, 4, 1, 2, 5, 1, 3, 2, 2, 1, 3, 1]  # 14 proofs, 31 steps
STEP_LOGP = [-0.25 * (i % 7) - 0.05 for i in range(sum(LENGTHS))]  # a fixed stand-in for the model


def proofs() -> list[list[int]]:
    """The steps of each proof, scattered over the example indices (not one contiguous run each)."""
    steps = np.random.default_rng(7).permutation(sum(LENGTHS)).tolist()
    starts = np.cumsum([0, *LENGTHS]).tolist()
    return [steps[a:b] for a, b in zip(starts, starts[1:])]


def factor(n: float, p: float) -> float:
    """F(N, p) = N p (1 − p)^(N−1) / (1 − (1 − p)^N), the direct formula."""
    return n * p * (1 - p) ** (n - 1) / (1 - (1 - p) ** n)


def kept_steps(proof: list[int], level: str, n: float, eps: float) -> list[int]:
    if level == "proof":  # F of the whole proof, p̂ = Π p̂_step
        return proof if factor(n, math.exp(sum(STEP_LOGP[i] for i in proof))) > eps else []
    return [i for i in proof if factor(n, math.exp(STEP_LOGP[i])) > eps]


def brute_force_epoch(order: list[int], groups, level, n, eps, size) -> tuple[list[list[int]], list[int], int]:
    """Walk the proofs in order, keep what the rule keeps, close a batch once it holds `size` steps:
    (batches, leftover steps, dropped steps)."""
    batches, pending, dropped = [], [], 0
    for p in order:
        kept = kept_steps(groups[p], level, n, eps)
        dropped += len(groups[p]) - len(kept)
        pending += kept
        if len(pending) >= size and kept:
            batches.append(pending)
            pending = []
    return batches, pending, dropped


RULES = {"proof": (DCOProof, 8.0, 0.3), "step": (DCOStep, 4.0, 0.1)}


@pytest.mark.parametrize("level", ["proof", "step"])
def test_refill_drops_by_the_rule_refills_to_the_step_budget_and_carries_leftovers(level):
    objective, n, eps = RULES[level]
    groups, size = proofs(), 6
    sampler = RefillBatchSampler(groups, size, mode="exact", seed=5)
    sampler.keeps = objective(n, eps).keeps
    sampler.scorer = lambda indices: torch.tensor([STEP_LOGP[i] for i in indices], dtype=torch.float64)

    order = np.random.default_rng((5, 0)).permutation(len(groups)).tolist()
    expected, leftover, dropped = brute_force_epoch(order, groups, level, n, eps, size)
    assert dropped > 0 and len(expected) >= 3  # the rule drops, and batches are refilled past the drops
    assert list(sampler) == expected
    assert sampler.carry == leftover and sampler.counts == {"scored": 31, "dropped": dropped}

    proof_of = {i: p for p, steps in enumerate(groups) for i in steps}
    carried = list(sampler.carry)
    second = list(sampler)
    assert [i for b in second for i in b][:len(carried)] == carried  # leftovers open the next epoch
    for batch in second + expected:
        assert size <= len(batch) < size + max(LENGTHS)
        held = {proof_of[i] for i in batch}
        assert sorted(batch) == sorted(i for p in held for i in kept_steps(groups[p], level, n, eps))  # whole, once


def test_ranks_take_whole_proofs_and_together_see_the_one_process_batches():
    groups = proofs()
    single = RefillBatchSampler(groups, 6, mode="cached", seed=2)
    ranks = [RefillBatchSampler(groups, 3, mode="cached", seed=2, rank=r, world_size=2) for r in range(2)]
    for sampler in [single, *ranks]:
        sampler.keeps = DCOProof(8.0, 0.3).keeps
        sampler.record(range(31), torch.tensor(STEP_LOGP, dtype=torch.float64))
    batches = list(single)
    shares = [list(sampler) for sampler in ranks]
    assert [a + b for a, b in zip(*shares)] == batches and len(shares[0]) == len(batches)
    proof_of = {i: p for p, steps in enumerate(groups) for i in steps}
    for share_ in shares[0] + shares[1]:
        held = {proof_of[i] for i in share_}
        assert share_ and sorted(share_) == sorted(i for p in held for i in groups[p])


def test_group_cuts_are_shares_for_groups_of_one_and_give_every_rank_a_group():
    assert group_cuts([1] * 7, 3) == [0, 3, 5, 7]
    assert [list(range(7))[a:b] for a, b in zip([0, 3, 5], [3, 5, 7])] == [share(list(range(7)), r, 3) for r in range(3)]
    assert group_cuts([5, 1, 1], 2) == [0, 1, 3]  # 7 steps: the boundary at 4 falls inside the first proof
    assert group_cuts([1, 6, 1], 3) == [0, 1, 2, 3]  # a long middle proof still leaves each rank one
    with pytest.raises(ValueError, match="at least one"):
        group_cuts([4], 2)


def test_groups_must_cover_every_example_once():
    with pytest.raises(ValueError, match="exactly once"):
        RefillBatchSampler([[0, 1], [1, 2]], 2)
    with pytest.raises(TypeError, match="whole groups"):
        len(RefillBatchSampler([[0, 1], [2]], 2))
