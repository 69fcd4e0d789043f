"""DCO_a: p̂_a from graded samples of the current weights, F(N, p̂_a)-weighted CE, the p̂_a refill rule."""
import math

import pytest
import torch

from conftest import COT_ONE_STEP, compose_config
from scripted_sampler import fake_module, prompt_batch, use_scripted_sampler
from src.data.refill import Refill, RefillBatchSampler
from src.objectives import DCOApprox
from src.rollouts.pass_rate import PassRateRollout
from src.run import train
from src.utils.run_dir import RunDir

# prompt key → 4 completions; golds below: 2 of 4 right, none right, 3 of 4 right (equivalent forms)
SCRIPT = {
    1: ["so $\\boxed{5}$.", "\\boxed{5}", "\\boxed{6}", "no box at all"],
    2: ["\\boxed{8}", "\\boxed{6}", "", "\\boxed{7.5}"],
    3: ["\\boxed{1/2}", "\\boxed{0.5}", "\\boxed{\\frac12}", "\\boxed{2}"],
}
GOLDS = ["5", "7", "\\frac{1}{2}"]
PASS_RATES = [0.5, 0.0, 0.75]


def reference_factor(n: float, p: float) -> float:
    """F(n, p) = n p (1 − p)^(n − 1) / (1 − (1 − p)^n), written out independently (1 at p = 0)."""
    return 1.0 if p == 0 else n * p * (1 - p) ** (n - 1) / (1 - (1 - p) ** n)


def test_pass_rate_is_the_fraction_of_samples_with_an_equivalent_boxed_answer(monkeypatch):
    use_scripted_sampler(monkeypatch, SCRIPT)
    rollout = PassRateRollout(samples=4, warmup_steps=0)
    batch = prompt_batch([1, 2, 3], GOLDS, indices=[10, 11, 12])
    logp_estimate = rollout.score(fake_module(), batch)
    assert logp_estimate.dtype == torch.float64
    assert logp_estimate.exp().tolist() == PASS_RATES and logp_estimate[1] == -math.inf
    # the refill scorer's estimates wait for the training step, which takes them out
    prepared = rollout.prepare(fake_module(), batch)
    assert torch.equal(prepared["logp_estimate"], logp_estimate) and rollout.estimates == {}


def test_without_refill_the_training_step_estimates_itself(monkeypatch):
    sampler = use_scripted_sampler(monkeypatch, SCRIPT)
    prepared = PassRateRollout(samples=4, warmup_steps=0).prepare(
        fake_module(), prompt_batch([3, 1], [GOLDS[2], GOLDS[0]]))
    assert prepared["logp_estimate"].exp().tolist() == [0.75, 0.5] and sampler.calls == 1


def test_warmup_steps_use_zero_pass_rate_without_sampling(monkeypatch):
    sampler = use_scripted_sampler(monkeypatch, SCRIPT)
    rollout = PassRateRollout(samples=4, warmup_steps=20)
    batch = prompt_batch([1, 2, 3], GOLDS)
    assert (rollout.score(fake_module(global_step=19), batch) == -math.inf).all() and sampler.calls == 0
    assert rollout.score(fake_module(global_step=20), batch).exp().tolist() == PASS_RATES and sampler.calls == 1


def test_loss_is_the_confidence_factor_times_cross_entropy_on_kept_examples():
    n, threshold = 16, 0.2
    pass_rates = [0.0, 0.125, 0.5, 0.0625, 0.2]  # the last sits on the threshold: dropped
    logp = torch.tensor([-3.0, -2.0, -1.0, -4.0, -0.5], dtype=torch.float64, requires_grad=True)
    batch = {"logp_estimate": torch.tensor(pass_rates, dtype=torch.float64).log()}
    out = DCOApprox(n=n, threshold=threshold)(logp, batch)
    (grad,) = torch.autograd.grad(out.losses.sum(), logp)

    factors = torch.tensor([reference_factor(n, p) for p in pass_rates], dtype=torch.float64)
    kept = torch.tensor([p < threshold for p in pass_rates])
    assert out.kept.tolist() == kept.tolist() == [True, True, False, True, False]
    torch.testing.assert_close(out.factor, factors, rtol=1e-12, atol=0)
    torch.testing.assert_close(out.losses.detach(), torch.where(kept, -factors * logp.detach(), 0.0))
    torch.testing.assert_close(grad, torch.where(kept, -factors, 0.0))  # F is a detached weight
    assert out.factor[0] == 1.0 and out.losses[0] == 3.0  # p̂_a = 0 (and every warm-up step): plain CE
    assert out.metrics["pass_rate"].item() == pytest.approx(sum(pass_rates) / len(pass_rates))


def test_bad_settings_and_a_missing_estimate_fail_early():
    for threshold in (0.0, 1.5, True):
        with pytest.raises(ValueError, match="threshold"):
            DCOApprox(n=16, threshold=threshold)
    with pytest.raises(KeyError, match="logp_estimate"):
        DCOApprox()(torch.zeros(2), {})
    assert Refill.CACHED not in PassRateRollout.refill_modes  # p̂_a cannot be read off a teacher-forced log p̂


def test_the_refill_sampler_drops_solved_examples_and_tops_the_batch_up(monkeypatch):
    """The MATH pipeline's refill rule, scored by p̂_a: only examples solved less than 20% of the time train."""
    solved, unsolved = ["\\boxed{1}"] * 4, ["\\boxed{0}"] * 4
    use_scripted_sampler(monkeypatch, {key: solved if key % 2 else unsolved for key in range(8)})
    rollout, objective = PassRateRollout(samples=4, warmup_steps=0), DCOApprox(n=16, threshold=0.2)
    sampler = RefillBatchSampler(8, batch_size=2, mode="exact", seed=0)
    sampler.keeps = objective.keeps
    sampler.scorer = lambda indices: rollout.score(fake_module(), prompt_batch(indices, ["1"] * len(indices), indices))
    batches = list(sampler)
    assert [i % 2 for batch in batches for i in batch] == [0] * 4 and len(batches) == 2
    assert sampler.counts == {"scored": 8, "dropped": 4}
    for batch in batches:  # the training step finds each kept example's estimate waiting
        prepared = rollout.prepare(fake_module(), prompt_batch(batch, ["1"] * 2, batch))
        assert (prepared["logp_estimate"] == -math.inf).all()


def test_dco_approx_trains_one_step_on_cpu(tmp_path):
    cfg = compose_config(["objective=dco_approx", "data.refill=exact", "rollout.samples=2", "rollout.warmup_steps=0",
                          *COT_ONE_STEP],
                         run_dir=tmp_path)
    metrics = train(cfg)
    assert RunDir(tmp_path).completed and set(metrics["test"]["pass"]) == {"1", "2"}
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/pass_rate", "train/factor", "train/kept", "refill/dropped"} <= set(header)
