"""Objectives on a batch: threshold rule, reductions to CE, proof variants, gradient accumulation."""
import math

import pytest
import torch

from src.objectives import (
    DCO,
    CrossEntropy,
    DCOProof,
    DCOStep,
    confidence_factor,
    dco_loss,
    reduce_losses,
    sequence_logp,
    whole_proof_dco_losses,
)

LOGP = [-30.0, -8.0, -5.0, -3.0, -1.0, -0.1, 0.0]


def logp_leaf(values=LOGP) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def loss_and_grad(objective, logp, batch=None):
    out = objective(logp, batch)
    (grad,) = torch.autograd.grad(out.losses.sum(), logp)
    return out, grad


def test_cross_entropy_keeps_everything_with_unit_factor():
    out, grad = loss_and_grad(CrossEntropy(), logp_leaf())
    assert torch.equal(out.losses.detach(), -torch.tensor(LOGP, dtype=torch.float64))
    assert torch.equal(grad, -torch.ones(len(LOGP), dtype=torch.float64))
    assert out.kept.all() and not hasattr(CrossEntropy(), "keeps")  # no threshold rule: nothing to refill
    assert torch.equal(out.factor, torch.ones(len(LOGP), dtype=torch.float64))


def test_dco_with_budget_one_is_cross_entropy():
    logp = logp_leaf()
    dco, dco_grad = loss_and_grad(DCO(n=1), logp)
    ce, ce_grad = loss_and_grad(CrossEntropy(), logp)
    assert torch.equal(dco.losses, ce.losses) and torch.equal(dco_grad, ce_grad)
    assert dco.kept.all()


def test_dco_threshold_drops_exactly_the_examples_with_factor_at_most_threshold():
    n, logp = 16, logp_leaf()
    factor = confidence_factor(logp.detach(), n)
    threshold = factor[3].item()  # the boundary example itself (F == ε) must be dropped
    out, grad = loss_and_grad(DCO(n=n, threshold=threshold), logp)
    expected_kept = factor > threshold
    assert torch.equal(out.kept, expected_kept) and not out.kept[3]
    assert torch.equal(DCO(n=n, threshold=threshold).keeps(logp), expected_kept)
    assert torch.equal(out.factor, factor)
    assert (out.losses[~expected_kept] == 0).all() and (grad[~expected_kept] == 0).all()
    assert torch.equal(out.losses[expected_kept], dco_loss(logp, n)[expected_kept])
    torch.testing.assert_close(grad[expected_kept], -factor[expected_kept], rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DCO(n=0.5), "n must be"),
        (lambda: DCO(n=math.inf), "n must be"),
        (lambda: DCO(n=True), "n must be"),
        (lambda: DCO(threshold=1.0), "threshold must be"),
        (lambda: DCO(threshold=-0.1), "threshold must be"),
        (lambda: DCOStep(n_eff=0), "n_eff must be"),
        (lambda: DCOProof(n=float("nan")), "n must be"),
    ],
)
def test_bad_arguments_name_the_argument_and_range(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_dco_step_is_dco_with_the_effective_budget_per_step():
    logp = logp_leaf()
    step, step_grad = loss_and_grad(DCOStep(n_eff=8, threshold=0.3), logp)
    dco, dco_grad = loss_and_grad(DCO(n=8, threshold=0.3), logp)
    for field in ("losses", "logp", "factor", "kept"):
        assert torch.equal(getattr(step, field), getattr(dco, field))
    assert torch.equal(step_grad, dco_grad)


def test_whole_proof_weights_are_the_detached_factor_of_the_proof_probability():
    step_logp = logp_leaf([-0.5, -1.0, -0.2, -2.0, -0.1, -3.0])
    proof_ids = torch.tensor([7, 3, 7, 3, 3, 9])
    proof_logp = torch.tensor([-0.7, -3.1, -0.7, -3.1, -3.1, -3.0], dtype=torch.float64)
    losses = whole_proof_dco_losses(step_logp, proof_ids, n=4)
    (grad,) = torch.autograd.grad(losses.sum(), step_logp)
    weights = confidence_factor(proof_logp, 4)
    torch.testing.assert_close(losses.detach(), -weights * step_logp.detach(), rtol=1e-15, atol=0)
    torch.testing.assert_close(grad, -weights, rtol=1e-15, atol=0)  # no gradient through the weight


def test_dco_proof_reads_proof_ids_and_thresholds_whole_proofs():
    step_logp = logp_leaf([-0.5, -1.0, -0.2, -2.0])
    batch = {"proof_id": torch.tensor([0, 1, 0, 1])}
    proof_factor = confidence_factor(torch.tensor([-0.7, -3.0, -0.7, -3.0], dtype=torch.float64), 4)
    threshold = proof_factor[0].item()
    out = DCOProof(n=4, threshold=threshold)(step_logp, batch)
    assert torch.equal(out.kept, torch.tensor([False, True, False, True]))
    assert torch.equal(DCOProof(n=4, threshold=threshold).keeps(step_logp, batch), out.kept)
    torch.testing.assert_close(out.factor, proof_factor, rtol=1e-15, atol=0)
    with pytest.raises(KeyError, match="proof_id"):
        DCOProof(n=4)(step_logp)


# Gradient accumulation: one batch of 4 == two micro-batches of 2, each loss divided by
# accumulate_grad_batches = 2 as Lightning does, for every objective and with a dropped example.

VOCAB, WIDTH, LENGTH = 5, 8, 3


def tiny_batch(rows: slice = slice(None)) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    batch = {
        "features": torch.randn(4, LENGTH, WIDTH, generator=generator),
        "targets": torch.randint(VOCAB, (4, LENGTH), generator=generator),
        "mask": torch.tensor([[1, 1, 1], [0, 1, 1], [1, 1, 1], [0, 0, 1]]),
    }
    return {key: value[rows] for key, value in batch.items()}


def sequence_logps(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    token_logp = model(batch["features"]).log_softmax(-1).gather(-1, batch["targets"].unsqueeze(-1)).squeeze(-1)
    return sequence_logp(token_logp, batch["mask"])


def accumulated_gradients(model, objective, micro_batches, examples_per_micro_batch):
    model.zero_grad()
    for batch in micro_batches:
        losses = objective(sequence_logps(model, batch), batch).losses
        (reduce_losses(losses, examples_per_micro_batch) / len(micro_batches)).backward()
    return [parameter.grad.clone() for parameter in model.parameters()]


def model_and_dropping_threshold(n: float) -> tuple[torch.nn.Module, float]:
    """A tiny LM head and a threshold between the two smallest F, so exactly one example is dropped."""
    model = torch.nn.Linear(WIDTH, VOCAB)
    with torch.no_grad():
        model.weight.copy_(torch.linspace(-1, 1, VOCAB * WIDTH).reshape(VOCAB, WIDTH))
        model.bias.zero_()
        smallest = confidence_factor(sequence_logps(model, tiny_batch()), n).sort().values
    return model, (smallest[0] + smallest[1]).item() / 2


@pytest.mark.parametrize("name, examples_kept", [("cross_entropy", 4), ("dco", 4), ("dco_dropping_one", 3)])
def test_gradient_accumulation_matches_one_full_batch(name, examples_kept):
    model, threshold = model_and_dropping_threshold(n=64)
    objective = {
        "cross_entropy": CrossEntropy(),
        "dco": DCO(n=64),
        "dco_dropping_one": DCO(n=64, threshold=threshold),
    }[name]
    assert objective(sequence_logps(model, tiny_batch())).kept.sum() == examples_kept
    full = accumulated_gradients(model, objective, [tiny_batch()], examples_per_micro_batch=4)
    halves = [tiny_batch(slice(0, 2)), tiny_batch(slice(2, 4))]
    accumulated = accumulated_gradients(model, objective, halves, examples_per_micro_batch=2)
    for full_grad, accumulated_grad in zip(full, accumulated):
        torch.testing.assert_close(accumulated_grad, full_grad)
        assert full_grad.abs().sum() > 0
