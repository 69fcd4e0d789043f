"""objective.reduction=sum|token_mean and objective.factor=exact|reference against hand-computed values
of the reference code's formulas (refine/training/NCO.py:5-14 and :141-147), and the ε-rule applied once."""
import math

import pytest
import torch

from src.objectives import DCO, CrossEntropy, DCOApprox, DCOProof
from src.objectives.coverage import confidence_factor
from src.objectives.modes import Factor, reference_factor

# Two sequences: 3 target tokens (positions 2-4) and 2 target tokens (positions 1-2); target_mask[:, 1:]
# counts the tokens whose log-probs make up log p̂.
BATCH = {"target_mask": torch.tensor([[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]])}
TOKENS = torch.tensor([3.0, 2.0], dtype=torch.float64)

# f(p, N) for N = 4 by hand: N·p < 0.1 takes the Padé-like branch, else the exact F.
# p = 0.01: (1 − 3(0.01) + 3·2(0.0001)/2) / (1 − 1.5(0.01) + 3·2(0.0001)/6) = 0.9703 / 0.9851
PADE_4_001 = 0.9703 / 0.9851
# p = 0.05 (N·p = 0.2): 4 · 0.95³ · 0.05 / (1 − 0.95⁴) = 0.171475 / 0.18549375
EXACT_4_005 = 0.171475 / 0.18549375
# the exact F at p = 0.01: 4 · 0.99³ · 0.01 / (1 − 0.99⁴) = 0.03881196 / 0.0394039900
EXACT_4_001 = 0.03881196 / 0.03940399


def grad_of_sum(objective, logp, batch):
    logp = logp.clone().requires_grad_(True)
    out = objective(logp, batch)
    out.losses.sum().backward()
    return out, logp.grad


def test_reference_factor_matches_the_hand_computed_branches():
    logp = torch.tensor([0.01, 0.05], dtype=torch.float64).log()
    ref = reference_factor(logp, 4)
    assert ref[0].item() == pytest.approx(PADE_4_001, rel=1e-12)
    assert ref[1].item() == pytest.approx(EXACT_4_005, rel=1e-12)
    exact = confidence_factor(logp, 4)
    assert exact[0].item() == pytest.approx(EXACT_4_001, rel=1e-12)
    assert abs(ref[0].item() - exact[0].item()) > 5e-7  # the two modes differ (7.7e-7 here)
    assert torch.equal(reference_factor(logp, 1), torch.ones(2, dtype=torch.float64))
    assert Factor.parse("reference")(logp, 4).tolist() == ref.tolist()


def test_dco_reference_mode_is_the_reference_per_token_mean_loss():
    # custom_loss_function1: loss = f(p̂, N) × (Σ NLL) / T, f detached; so d loss / d log p̂ = −f / T
    logp = torch.tensor([0.01, 0.05], dtype=torch.float64).log()
    out, grad = grad_of_sum(DCO(n=4, reduction="token_mean", factor="reference"), logp, BATCH)
    f = torch.tensor([PADE_4_001, EXACT_4_005], dtype=torch.float64)
    expected = f * torch.tensor([-math.log(0.01), -math.log(0.05)], dtype=torch.float64) / TOKENS
    torch.testing.assert_close(out.losses, expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(grad, -f / TOKENS, rtol=1e-12, atol=0)


def test_dco_exact_modes_keep_the_paper_loss_and_divide_it_by_the_token_count():
    logp = torch.tensor([0.01, 0.05], dtype=torch.float64).log()
    coverage = torch.tensor([1 - 0.99 ** 4, 1 - 0.95 ** 4], dtype=torch.float64)
    summed, summed_grad = grad_of_sum(DCO(n=4), logp, BATCH)
    torch.testing.assert_close(summed.losses, -coverage.log(), rtol=1e-12, atol=0)
    torch.testing.assert_close(summed_grad, -torch.tensor([EXACT_4_001, EXACT_4_005], dtype=torch.float64),
                               rtol=1e-12, atol=0)
    mean, mean_grad = grad_of_sum(DCO(n=4, reduction="token_mean"), logp, BATCH)
    torch.testing.assert_close(mean.losses, -coverage.log() / TOKENS, rtol=1e-12, atol=0)
    torch.testing.assert_close(mean_grad, summed_grad / TOKENS, rtol=1e-12, atol=0)


def test_cross_entropy_token_mean_is_the_nll_per_target_token():
    logp = torch.tensor([-6.0, -3.0], dtype=torch.float64)
    out = CrossEntropy(reduction="token_mean")(logp, BATCH)
    assert out.losses.tolist() == [2.0, 1.5]
    assert CrossEntropy()(logp, BATCH).losses.tolist() == [6.0, 3.0]


def test_dco_approx_reference_mode_weighs_the_token_mean_ce_by_the_reference_factor():
    # train.py:593-599: per-token CE × f(p̂_a, N); p̂_a = 0.02, N = 4: N·p̂_a = 0.08 < 0.1, so Padé:
    # (1 − 0.06 + 3·2·0.0004/2) / (1 − 0.03 + 3·2·0.0004/6) = 0.9412 / 0.9704
    batch = {**BATCH, "logp_estimate": torch.tensor([0.02, 0.02], dtype=torch.float64).log()}
    logp = torch.tensor([-6.0, -3.0], dtype=torch.float64)
    out = DCOApprox(n=4, reduction="token_mean", factor="reference")(logp, batch)
    torch.testing.assert_close(out.losses, torch.tensor([2.0, 1.5], dtype=torch.float64) * (0.9412 / 0.9704),
                               rtol=1e-12, atol=0)
    assert DCOApprox().threshold == 0.1  # the reference's --threshold default (arg_parser.py:273)


def test_proof_dco_reference_mode_weighs_each_steps_token_mean_ce_by_the_whole_proof_factor():
    # filter_samples.py:687-691 + train.py:606-609: f(Π p̂_i, N) × per-token CE of each step.
    step_logp = torch.tensor([math.log(0.1), math.log(0.1)], dtype=torch.float64)  # one proof, Π p̂ = 0.01
    batch = {**BATCH, "proof_id": torch.tensor([7, 7])}
    out = DCOProof(n=4, reduction="token_mean", factor="reference")(step_logp, batch)
    expected = PADE_4_001 * -math.log(0.1) / TOKENS
    torch.testing.assert_close(out.losses, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("key, make", [("objective.reduction", lambda: DCO(reduction="mean")),
                                       ("objective.factor", lambda: DCO(factor="pade"))])
def test_unknown_modes_are_named_with_the_accepted_values(key, make):
    with pytest.raises(ValueError, match=key):
        make()


def test_the_threshold_rule_is_applied_once_when_the_sampler_decides():
    # an example the sampler kept must not be dropped again by the loss (F can cross ε between the
    # sampler's forward pass and the step: the reference never re-applies it, train.py:612-618)
    logp = torch.tensor([0.5, 1e-6], dtype=torch.float64).log()
    objective = DCO(n=64, threshold=0.1)
    assert objective(logp, BATCH).kept.tolist() == [False, True]  # refill off: the loss drops it
    objective.leave_threshold_to_sampler()
    out = objective(logp, BATCH)
    assert out.kept.all() and (out.losses > 0).all()
    assert objective.keeps(logp).tolist() == [False, True]  # the sampler's rule is unchanged
