"""The proof methods, worked by hand: the unlikeliness reward (ranks, shaped rewards, step gradients)
and uniform allocation (N_eff = N / L per step)."""
import math

import pytest
import torch

from src.objectives.coverage import confidence_factor
from src.objectives.uniform_allocation import UniformAllocation, proof_lengths, uniform_allocation_losses
from src.objectives.unlikeliness import UnlikelinessReward, likelihood_ranks, unlikeliness_rewards


def test_ranks_put_the_least_likely_sample_first():
    logp = torch.tensor([[-1.0, -3.0, -0.5, -2.0]])
    assert likelihood_ranks(logp).tolist() == [[2, 0, 3, 1]]
    # β = 0.5, G = 4: r · (1 − 0.5 · rank / 4); the wrong sample (index 2) stays 0
    shaped = unlikeliness_rewards(torch.tensor([[1.0, 1.0, 0.0, 1.0]]), logp, beta=0.5)
    torch.testing.assert_close(shaped, torch.tensor([[0.75, 1.0, 0.0, 0.875]], dtype=torch.float64))


def attempt_batch(rewards, attempt, tokens):
    width = max(tokens) + 1
    target_mask = torch.tensor([[0] + [1] * t + [0] * (width - 1 - t) for t in tokens])
    return {"rewards": torch.tensor(rewards), "attempt": torch.tensor(attempt), "target_mask": target_mask}


def test_two_correct_proofs_the_unlikely_one_is_pushed_up():
    # one theorem, G = 2 correct attempts: attempt 0 has two 1-token steps (mean log-prob −1, the less
    # likely), attempt 1 one step (−0.5). GRPO alone: equal rewards, no gradient. With β = 0.5 the
    # likely one's reward is 1 − 0.5 · 1/2 = 0.75: mean 0.875, sample std 0.125·√2, Â = ±0.125 / (0.125√2 + 1e-4)
    logp = torch.tensor([-1.0, -1.0, -0.5], dtype=torch.float64, requires_grad=True)
    batch = attempt_batch([[1.0, 1.0]], [0, 0, 1], [1, 1, 1])
    a = 0.125 / (0.125 * math.sqrt(2) + 1e-4)
    (grad,) = torch.autograd.grad(UnlikelinessReward(beta=0.5)(logp, batch).losses.sum(), logp)
    # −Â / (tokens of the attempt) / G per step: attempt 0 (Â = +a, 2 tokens), attempt 1 (Â = −a, 1 token)
    torch.testing.assert_close(grad, torch.tensor([-a / 4, -a / 4, a / 2], dtype=torch.float64))
    (plain,) = torch.autograd.grad(UnlikelinessReward(beta=0.0)(logp, batch).losses.sum(), logp)
    assert plain.abs().max().item() == 0.0
    with pytest.raises(ValueError, match="beta"):
        UnlikelinessReward(beta=2)


def test_uniform_allocation_gives_each_step_n_over_l():
    proof_ids = torch.tensor([7, 7, 7, 3])
    assert proof_lengths(proof_ids).tolist() == [3, 3, 3, 1]
    half = torch.full((4,), math.log(0.5), dtype=torch.float64)
    # N = 6: the 3-step proof's steps get N_eff = 2, the 1-step proof's step N_eff = 6
    expected = [-math.log(1 - 0.5**2)] * 3 + [-math.log(1 - 0.5**6)]
    torch.testing.assert_close(uniform_allocation_losses(half, proof_ids, 6), torch.tensor(expected, dtype=torch.float64))
    # N = 2: N/L = 2/3 < 1 is plain CE for the long proof
    torch.testing.assert_close(uniform_allocation_losses(half, proof_ids, 2)[:3], torch.full((3,), math.log(2), dtype=torch.float64))
    logp = half.clone().requires_grad_(True)
    out = UniformAllocation(n=6)(logp, {"proof_id": proof_ids})
    (grad,) = torch.autograd.grad(out.losses.sum(), logp)
    f2, f6 = 2 * 0.5 * 0.5 / 0.75, 6 * 0.5 * 0.5**5 / (1 - 0.5**6)  # F(N_eff, 1/2) by hand
    torch.testing.assert_close(-grad, torch.tensor([f2, f2, f2, f6], dtype=torch.float64))
    torch.testing.assert_close(out.factor, confidence_factor(half, torch.tensor([2.0, 2, 2, 6])))
    with pytest.raises(KeyError, match="proof_id"):
        UniformAllocation(n=6)(logp, {})
