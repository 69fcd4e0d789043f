"""The pass@k-aware objectives in the harness: their batch adapters, PKPO's annealed k, the compute
ledger the rollouts and the training step fill, and one CPU training step per method."""
import pytest
import torch

from conftest import COT_ONE_STEP, compose_config
from scripted_sampler import fake_module, prompt_batch, use_scripted_sampler
from src.objectives.maxrl import MaxRL
from src.objectives.passk_training import PassKTraining, passk_training_advantages
from src.objectives.pkpo import PKPO, pkpo_rewards
from src.rollouts.groups import GroupRollout
from src.rollouts.pass_rate import PassRateRollout
from src.run import train
from src.utils.compute import generated_tokens
from src.utils.run_dir import RunDir

REWARDS = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
TARGET_MASK = torch.tensor([[0, 1, 0]] * 4)  # one token per completion


def on_policy_gradient(objective, **batch) -> torch.Tensor:
    """d loss / d token log-prob of each one-token completion: −A_i / G on policy."""
    logp = torch.full((4, 2), -1.0, dtype=torch.float64, requires_grad=True)
    out = objective(logp, {"target_mask": TARGET_MASK, "rewards": REWARDS, **batch})
    (grad,) = torch.autograd.grad(out.losses.sum(), logp)
    return grad[:, 0]


def test_pkpo_loss_gradient_is_its_transformed_rewards():
    # −∂loss/∂log p(x_i) = r̃_i: the harness's 1/G cancels the n in A = n r̃
    grad = on_policy_gradient(PKPO(k=2, baseline="none"))
    torch.testing.assert_close(-grad, pkpo_rewards(REWARDS, 2)[0])


def test_pkpo_anneals_k_at_the_given_step():
    objective = PKPO(k=3, baseline="none", k_final=1, anneal_step=10)
    early, late = on_policy_gradient(objective, global_step=9), on_policy_gradient(objective, global_step=10)
    torch.testing.assert_close(-early, pkpo_rewards(REWARDS, 3)[0])
    torch.testing.assert_close(-late, torch.tensor([1 / 4, 0, 0, 0], dtype=torch.float64))  # k = 1: r / n
    with pytest.raises(ValueError, match="k_final and objective.anneal_step go together"):
        PKPO(k=3, k_final=1)


def test_passk_training_and_maxrl_replace_only_the_advantages():
    grad = on_policy_gradient(PassKTraining(k=2))
    torch.testing.assert_close(-grad * 4, passk_training_advantages(REWARDS, 2)[0])
    torch.testing.assert_close(-on_policy_gradient(MaxRL()) * 4, torch.tensor([3.0, -1, -1, -1], dtype=torch.float64))
    with pytest.raises(ValueError, match="objective.k must be an integer"):
        PassKTraining(k=0)


def test_generated_tokens_count_the_eos_only_when_the_model_stopped():
    assert generated_tokens([[[5, 6], [7]], [[1, 2, 3]]], max_new_tokens=3) == (2 + 1) + (1 + 1) + 3


@pytest.mark.parametrize("token_budget,per_completion", [(2, 2), (1, 1)])
def test_rollouts_add_what_they_sample_to_the_ledger(monkeypatch, token_budget, per_completion):
    use_scripted_sampler(monkeypatch, {5: ["\\boxed{4}", "\\boxed{3}"], 6: ["\\boxed{9}", "\\boxed{9}"]})
    module = fake_module()
    GroupRollout(group_size=2, sampling={"max_new_tokens": token_budget}).prepare(module, prompt_batch([5, 6], ["4", "9"]))
    assert module.compute.sampled == 4 * per_completion  # 2 prompts × 2 one-token completions (+ EOS)
    PassRateRollout(samples=2, warmup_steps=0, sampling={"max_new_tokens": token_budget}).estimate(
        module, prompt_batch([5], ["4"]))
    assert module.compute.sampled == 6 * per_completion


@pytest.mark.parametrize("objective", ["pkpo", "pkpo_k16", "passk_training", "maxrl"])
def test_each_method_trains_one_step_on_cpu_and_logs_its_tokens(tmp_path, objective):
    group_size = 16 if objective in ("pkpo_k16", "passk_training") else 4
    cfg = compose_config([f"objective={objective}", f"rollout.group_size={group_size}", "data.batch_size=2",
                          *COT_ONE_STEP], run_dir=tmp_path)
    train(cfg)
    run = RunDir(tmp_path)
    assert run.completed
    compute = run.metrics()[-1]["compute"]
    assert compute["sampled_tokens"] >= 2 * group_size  # every completion has at least its EOS or one token
    assert compute["trained_tokens"] > compute["sampled_tokens"]  # the prompts are trained through too
    assert compute["scored_tokens"] == compute["trained_tokens"]  # the KL reference sees the same rows
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"compute/sampled_tokens", "compute/trained_tokens", "train/reward"} <= set(header)


def test_cross_entropy_samples_nothing_and_counts_what_it_trains(tmp_path):
    cfg = compose_config(["data.refill=off", *COT_ONE_STEP], run_dir=tmp_path)
    train(cfg)
    compute = RunDir(tmp_path).metrics()[-1]["compute"]
    assert compute["sampled_tokens"] == 0 and compute["scored_tokens"] == 0
    assert compute["trained_tokens"] > 0
