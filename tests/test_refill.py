"""The effective-batch rule: full batches, dropped examples never served, leftovers carried."""
import pytest
import torch

from src.data.refill import RefillBatchSampler


def keep_even(logp: torch.Tensor, batch=None) -> torch.Tensor:
    """A stand-in threshold rule (an objective's `keeps`): 'score' is the index; even indices are kept."""
    return logp.long() % 2 == 0


def test_off_mode_is_a_plain_shuffled_epoch():
    sampler = RefillBatchSampler(10, 4, mode="off", seed=1)
    batches = list(sampler)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert list(sampler) != batches  # a new order each epoch


def test_exact_mode_keeps_batches_full_and_carries_leftovers():
    sampler = RefillBatchSampler(11, 4, mode="exact", seed=0)
    sampler.keeps = keep_even
    sampler.scorer = lambda idx: torch.tensor(idx, dtype=torch.float64)
    first = list(sampler)
    assert all(len(b) == 4 for b in first)
    served = [i for b in first for i in b]
    assert all(i % 2 == 0 for i in served) and len(set(served)) == len(served)
    assert sampler.counts == {"scored": 11, "dropped": 5}
    assert len(sampler.carry) == 6 - len(served)  # 6 even indices in 0..10
    carried = list(sampler.carry)
    second = list(sampler)
    assert [i for b in second for i in b][:len(carried)] == carried  # leftovers go first


def test_cached_mode_uses_recorded_logp_and_keeps_unseen_examples():
    sampler = RefillBatchSampler(8, 2, mode="cached", seed=0)
    sampler.keeps = lambda logp, batch: logp < -1.0  # "confident" = logp ≥ -1
    assert sum(len(b) for b in sampler) == 8  # never trained on: all kept (logp = -inf)
    sampler.record([0, 1, 2], torch.tensor([-0.1, -0.5, -3.0]))
    served = [i for b in sampler for i in b] + sampler.carry
    assert 0 not in served and 1 not in served and 2 in served
    assert sampler.counts["dropped"] == 2


def test_state_roundtrip_resumes_the_same_order():
    a = RefillBatchSampler(9, 2, mode="cached", seed=3)
    a.keeps = lambda logp, batch: torch.ones_like(logp, dtype=torch.bool)
    list(a)
    a.record([4], torch.tensor([-2.0]))
    b = RefillBatchSampler(9, 2, mode="cached", seed=3)
    b.keeps = a.keeps
    b.load_state_dict(a.state_dict())
    assert list(a) == list(b)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="data.refill"):
        RefillBatchSampler(4, 2, mode="sometimes")
    sampler = RefillBatchSampler(4, 2, mode="exact")
    sampler.keeps = keep_even
    with pytest.raises(RuntimeError, match="scorer"):
        list(sampler)


def test_an_objective_without_a_threshold_rule_gets_plain_batches_whatever_data_refill_says(tmp_path):
    """Refill.EXACT with CE (no `keeps`): nothing can be dropped, so the sampler serves plain, sized batches
    instead of paying a scoring pass per candidate."""
    from conftest import compose_config
    from src.run import train

    train(compose_config(["data.refill=exact"], run_dir=tmp_path))
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "refill/dropped" not in header and "test/coverage@1" in header
