"""GRPO: group-normalised advantages, the clipped per-token loss and its KL term, worked by hand;
the rollout batch; one training step on CPU."""
import math

import pytest
import torch

from conftest import COT_ONE_STEP, compose_config
from scripted_sampler import fake_module, prompt_batch, use_scripted_sampler
from src.objectives import GRPO, group_advantages, reduce_losses
from src.rollouts.groups import GroupRollout
from src.run import train
from src.utils.run_dir import RunDir

# One prompt, G = 2 completions: completion 1 is right (2 tokens), completion 2 is wrong (1 token).
# Group mean 0.5, sample std √0.5, so Â = ±0.5 / (√0.5 + 1e-4) = ±A.
A = 0.5 / (math.sqrt(0.5) + 1e-4)
LOGP = [[math.log(0.5), math.log(0.5), 0.0], [math.log(0.2), 0.0, 0.0]]
OLD_LOGP = [[math.log(0.25), math.log(0.5), 0.0], [math.log(0.4), 0.0, 0.0]]  # ratios 2, 1 | 0.5
REF_LOGP = [[math.log(0.25), math.log(0.5), 0.0], [math.log(0.2), 0.0, 0.0]]
TARGET_MASK = [[0, 1, 1, 0], [0, 1, 0, 0]]  # collate's mask: column t + 1 marks token t


def grpo_batch(**extra) -> dict:
    return {"target_mask": torch.tensor(TARGET_MASK), "rewards": torch.tensor([[1.0, 0.0]]), **extra}


def test_advantages_are_rewards_normalised_within_each_group():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    # group 1: mean 1/2, sample std √(4 · 1/4 / 3) = √(1/3); group 2: all alike → 0; group 3: mean 1/4,
    # std √((3 · 1/16 + 9/16) / 3) = 1/2
    a1, a3 = 0.5 / (math.sqrt(1 / 3) + 1e-4), 1 / (0.5 + 1e-4)
    expected = [[a1, -a1, -a1, a1], [0, 0, 0, 0], [-a3 / 4, -a3 / 4, 3 * a3 / 4, -a3 / 4]]
    torch.testing.assert_close(group_advantages(rewards), torch.tensor(expected, dtype=torch.float64))
    with pytest.raises(ValueError, match="G ≥ 2"):
        group_advantages(torch.ones(3, 1))


def test_clipped_loss_and_its_gradient_match_a_hand_computed_example():
    logp = torch.tensor(LOGP, dtype=torch.float64, requires_grad=True)
    out = GRPO(clip_range=0.2)(logp, grpo_batch(old_token_logp=torch.tensor(OLD_LOGP)))
    # completion 1 (Â = +A): token ratios 2 and 1 → min(2A, 1.2A) = 1.2A and A → mean −1.1A
    # completion 2 (Â = −A): ratio 0.5 → min(−0.5A, −0.8A) = −0.8A → loss +0.8A
    # each completion's mean counts 1/G of its prompt: (−1.1A + 0.8A) / 2 per prompt, one prompt
    torch.testing.assert_close(out.losses.detach(), torch.tensor([-1.1 * A / 2, 0.8 * A / 2], dtype=torch.float64))
    loss = reduce_losses(out.losses, examples_per_step=1)
    assert loss.item() == pytest.approx(-0.15 * A)
    (grad,) = torch.autograd.grad(loss, logp)
    # clipped tokens carry no gradient; the unclipped one gets −Â ρ / (|o| G) = −A / 4; padding none
    torch.testing.assert_close(grad, torch.tensor([[0.0, -A / 4, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64))
    assert out.metrics["reward"].item() == 0.5 and out.kept.all()


def test_on_policy_the_gradient_is_the_advantage_times_the_score():
    logp = torch.tensor(LOGP, dtype=torch.float64, requires_grad=True)
    out = GRPO(clip_range=0.2)(logp, grpo_batch())  # no old log-probs: π_old = π_θ, every ratio 1
    (grad,) = torch.autograd.grad(out.losses.sum(), logp)
    expected = [[-A / 4, -A / 4, 0.0], [A / 2, 0.0, 0.0]]  # −Â / (|o_i| G)
    torch.testing.assert_close(grad, torch.tensor(expected, dtype=torch.float64))
    assert out.losses.sum().item() == pytest.approx(0.0)  # advantages sum to 0 in value


def test_kl_term_adds_beta_times_the_k3_estimate_against_the_reference():
    logp = torch.tensor(LOGP, dtype=torch.float64)
    plain = GRPO(kl_coef=0.0)(logp, grpo_batch())
    with_kl = GRPO(kl_coef=0.1)(logp, grpo_batch(ref_token_logp=torch.tensor(REF_LOGP)))
    # only token 1 of completion 1 differs from the reference: π_ref / π_θ = 0.5 → 0.5 − log 0.5 − 1
    kl = 0.5 - math.log(0.5) - 1
    torch.testing.assert_close(with_kl.losses - plain.losses,
                               torch.tensor([0.1 * kl / 2 / 2, 0.0], dtype=torch.float64))
    assert with_kl.metrics["kl"].item() == pytest.approx(kl / 2 / 2)  # mean over tokens, then completions
    with pytest.raises(KeyError, match="ref_token_logp"):
        GRPO(kl_coef=0.1)(logp, grpo_batch())


@pytest.mark.parametrize("token_budget,stopped", [(2, True), (1, False)])
def test_rollout_batch_holds_each_prompts_group_with_rewards(monkeypatch, token_budget, stopped):
    # every scripted completion is one token: under a budget of 2 the model stopped (EOS is part of
    # the completion it is trained on); under a budget of 1 it ran out of tokens (no EOS)
    use_scripted_sampler(monkeypatch, {5: ["\\boxed{4}", "\\boxed{3}"], 6: ["\\boxed{9}", "\\boxed{9}"]})
    rollout = GroupRollout(group_size=2, sampling={"max_new_tokens": token_budget})
    rolled = rollout.prepare(fake_module(eos=2, pad=0), prompt_batch([5, 6], ["4", "9"], indices=[7, 8]))
    assert rolled["rewards"].tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert rolled["index"].tolist() == [7, 7, 8, 8]
    assert rolled["target_mask"].sum(1).tolist() == [1 + stopped] * 4
    assert (rolled["input_ids"][:, -1] == 2).all().item() is stopped
    assert "ref_token_logp" not in rolled


def test_grpo_trains_one_step_on_cpu_with_a_frozen_reference(tmp_path):
    cfg = compose_config(["objective=grpo", "objective.kl_coef=0.05", "rollout.group_size=2", *COT_ONE_STEP],
                         run_dir=tmp_path)
    train(cfg)
    assert RunDir(tmp_path).completed
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/reward", "train/kl", "train/loss"} <= set(header)
