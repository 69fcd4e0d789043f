"""The pass@k-aware estimators, checked by enumeration on a small categorical policy.

A policy over M answers (softmax of logits θ), some of them correct: q = P(correct), pass@k = 1 − (1 − q)^k.
For n samples the exact expectation of an estimator Σ_i w_i ∇log π(x_i) is a sum over all M^n ordered
sample tuples (∇_θ log π(a) = e_a − π); the reference gradients come from autograd on the closed forms.
"""
import itertools
import math

import pytest
import torch

from src.objectives.grpo import group_advantages
from src.objectives.maxrl import maxrl_advantages
from src.objectives.passk_training import passk_training_advantages
from src.objectives.pkpo import BASELINES, pass_at_k_estimate, pkpo_rewards

LOGITS = torch.tensor([0.4, -0.3, 1.1, -1.2], dtype=torch.float64)
CORRECT = torch.tensor([False, True, False, True])  # q = P(answer 1 or 3) ≈ 0.22
N = 5  # samples per prompt: 4^5 = 1024 tuples


def policy(logits=LOGITS):
    return torch.softmax(logits, 0)


def tuples(n=N):
    """All M^n ordered sample tuples (T, n), their probabilities (T,) and binary rewards (T, n)."""
    samples = torch.tensor(list(itertools.product(range(len(LOGITS)), repeat=n)))
    probs = policy()[samples].prod(1)
    return samples, probs, CORRECT[samples].to(torch.float64)


def expected_gradient(weights: torch.Tensor, n=N) -> torch.Tensor:
    """E[Σ_i w_i ∇_θ log π(x_i)] for weights (T, n) computed on `tuples(n)`."""
    samples, probs, _ = tuples(n)
    score = torch.eye(len(LOGITS), dtype=torch.float64)[samples] - policy()  # (T, n, M)
    return (probs[:, None] * (weights[..., None] * score).sum(1)).sum(0)


def gradient_of(objective) -> torch.Tensor:
    """∇_θ objective(q(θ)) by autograd."""
    logits = LOGITS.clone().requires_grad_(True)
    q = torch.softmax(logits, 0)[CORRECT].sum()
    (grad,) = torch.autograd.grad(objective(q), logits)
    return grad


def pass_at(k):
    return lambda q: 1 - (1 - q) ** k


def test_pass_at_k_estimate_is_the_binomial_ratio_and_unbiased():
    for n in range(1, 8):
        for k in range(0, n + 1):
            c = torch.arange(n + 1)
            expected = [1 - math.comb(n - int(ci), k) / math.comb(n, k) for ci in c]
            torch.testing.assert_close(pass_at_k_estimate(n, c, k), torch.tensor(expected, dtype=torch.float64))
    _, probs, rewards = tuples()
    q = policy()[CORRECT].sum()
    for k in range(1, N + 1):
        estimate = (probs * pass_at_k_estimate(N, rewards.sum(1), k)).sum()
        assert estimate.item() == pytest.approx(pass_at(k)(q).item(), rel=1e-12)


@pytest.mark.parametrize("k,baseline", [(k, b) for b in BASELINES for k in (1, 2, 3, N) if (b, k) != ("loo", N)])
def test_pkpo_gradient_is_unbiased_for_the_pass_at_k_gradient(k, baseline):
    """Every variant; "loo" needs k < n (its refusal is checked in the hand-computed test)."""
    _, _, rewards = tuples()
    expected = gradient_of(pass_at(k))
    torch.testing.assert_close(expected_gradient(pkpo_rewards(rewards, k, baseline)), expected, rtol=1e-10, atol=1e-13)


def test_pkpo_without_the_wrong_samples_share_would_be_biased():
    """Negative control: rewarding only the correct samples (k/n each) misses ∇ pass@k for k > 1."""
    _, _, rewards = tuples()
    naive = torch.where(rewards > 0, 3 / N, 0.0)
    assert not torch.allclose(expected_gradient(naive), gradient_of(pass_at(3)), rtol=1e-3)


def test_pkpo_transformed_rewards_by_hand():
    # n = 4, c = 1, k = 2: correct → k/n = 1/2; wrong → 1/2 · ρ(3, 1, 1) = 1/2 · 1/3 = 1/6
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(pkpo_rewards(rewards, 2), torch.tensor([[1 / 2, 1 / 6, 1 / 6, 1 / 6]], dtype=torch.float64))
    # loo: the others' pass@2 estimate, 1/2 · ρ(3, c_−i, 2): 0 for the correct one, 1/2 · 2/3 for the wrong ones
    torch.testing.assert_close(pkpo_rewards(rewards, 2, "loo"),
                               torch.tensor([[1 / 2, -1 / 6, -1 / 6, -1 / 6]], dtype=torch.float64))
    # loo_minus_one: the correct one's marginal contribution 1/2 · (1 − ρ(3, 0, 1)) = 1/2, wrong ones 0
    torch.testing.assert_close(pkpo_rewards(rewards, 2, "loo_minus_one"),
                               torch.tensor([[1 / 2, 0, 0, 0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pkpo_rewards(rewards, 5)
    with pytest.raises(ValueError, match="needs k < n"):
        pkpo_rewards(rewards, 4, "loo")


def brute_force_passk_training(correct: list[bool], k: int) -> list[float]:
    """Chen et al.'s full sampling: every size-k group, reward max, normalise over groups, average per response."""
    n = len(correct)
    groups = list(itertools.combinations(range(n), k))
    group_reward = torch.tensor([float(any(correct[i] for i in g)) for g in groups], dtype=torch.float64)
    mean, std = group_reward.mean(), group_reward.std(unbiased=False)
    if std == 0:
        return [0.0] * n
    advantage = (group_reward - mean) / std
    return [advantage[[i in g for g in groups]].mean().item() for i in range(n)]


@pytest.mark.parametrize("n", [2, 4, 6])
def test_passk_training_closed_form_is_the_average_over_all_groups(n):
    for k in range(1, n + 1):
        for c in range(n + 1):
            correct = [True] * c + [False] * (n - c)
            got = passk_training_advantages(torch.tensor([correct], dtype=torch.float64), k)[0]
            torch.testing.assert_close(got, torch.tensor(brute_force_passk_training(correct, k), dtype=torch.float64))


def test_passk_training_at_k_1_is_grpo_with_population_std():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0, 0.0]])
    mean, std = rewards.mean(), rewards.std(unbiased=False)
    torch.testing.assert_close(passk_training_advantages(rewards, 1), ((rewards - mean) / std).double())


def truncated_log_likelihood(order):
    return lambda q: sum(pass_at(k)(q) / k for k in range(1, order + 1))


def test_maxrl_gradient_is_unbiased_for_the_truncated_log_likelihood():
    """Successes-only average A = r/r̄: E[(1/n) Σ A_i ∇log π(x_i)] = ∇ Σ_{k ≤ n} pass@k / k (δ = 0).
    The centred A = (r − r̄)/r̄ drops the k = n term: ∇ Σ_{k ≤ n−1} pass@k / k."""
    _, _, rewards = tuples()
    target = gradient_of(truncated_log_likelihood(N))
    torch.testing.assert_close(expected_gradient(maxrl_advantages(rewards, center=False) / N), target,
                               rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(expected_gradient(maxrl_advantages(rewards) / N), gradient_of(truncated_log_likelihood(N - 1)),
                               rtol=1e-10, atol=1e-13)
    # and not of log q itself, which it only reaches as n → ∞
    assert not torch.allclose(target, gradient_of(torch.log), rtol=1e-3)


def test_maxrl_advantages_by_hand():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    expected = [[3.0, -1.0, -1.0, -1.0], [0.0] * 4, [1.0, 1.0, -1.0, -1.0]]  # (r − r̄)/r̄; no success → 0
    torch.testing.assert_close(maxrl_advantages(rewards), torch.tensor(expected, dtype=torch.float64))


def test_grpo_targets_pass_at_1():
    """Mean-centred rewards give ((n−1)/n) ∇ pass@1 exactly; GRPO's std-normalised advantages give
    w(q) ∇ pass@1 with w(q) = Σ_c P(c) [c A₊(c)/q − (n − c) A₋(c)/(1 − q)] / n (condition on c)."""
    _, _, rewards = tuples()
    grad_q = gradient_of(lambda q: q)
    centred = rewards - rewards.mean(1, keepdim=True)
    torch.testing.assert_close(expected_gradient(centred / N), (N - 1) / N * grad_q, rtol=1e-10, atol=1e-13)
    q = policy()[CORRECT].sum().item()
    weight = 0.0
    for c in range(1, N):
        row = torch.tensor([[1.0] * c + [0.0] * (N - c)])
        a = group_advantages(row)[0]
        weight += math.comb(N, c) * q**c * (1 - q) ** (N - c) * (c * a[0].item() / q - (N - c) * a[-1].item() / (1 - q))
    torch.testing.assert_close(expected_gradient(group_advantages(rewards) / N), weight / N * grad_q,
                               rtol=1e-10, atol=1e-13)
