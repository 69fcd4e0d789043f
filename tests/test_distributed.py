"""Data parallelism: shares of the global batch, and 2 gloo processes reproducing 1 process."""
import csv
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from conftest import REPO, TINY, compose_config
from src.run.callbacks import RefillCallback
from src.data.refill import RefillBatchSampler
from src.run import train
from src.utils.distributed import parameters_are_sharded, share
from src.utils.io import read_jsonl


def test_shares_are_contiguous_balanced_and_cover_the_batch():
    batch = list(range(7))
    shares = [share(batch, rank, 3) for rank in range(3)]
    assert shares == [[0, 1, 2], [3, 4], [5, 6]]
    assert share(batch, 0, 1) == batch


@pytest.mark.parametrize("num_examples", [12, 13, 9])
def test_ranks_train_on_disjoint_shares_of_the_one_process_batches(num_examples):
    """Two ranks with batch_size 3 see, together and in order, what one process with 6 sees."""
    single = list(RefillBatchSampler(num_examples, 6, seed=4))
    ranks = [list(RefillBatchSampler(num_examples, 3, seed=4, rank=r, world_size=2)) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1]) == len(RefillBatchSampler(num_examples, 3, world_size=2))
    assert [a + b for a, b in zip(*ranks)] == single[:len(ranks[0])]
    # 13 = 2 × 6 + 1: a last batch of one example cannot be split over two ranks, so it is skipped
    assert len(ranks[0]) == len(single) - (num_examples % 6 == 1)


def test_exact_refill_under_sharded_parameters_is_refused():
    model = torch.nn.Linear(2, 2)
    assert not parameters_are_sharded(model)
    model.weight.ds_id = 0  # how DeepSpeed ZeRO-3 marks a partitioned parameter
    assert parameters_are_sharded(model)
    sampler = RefillBatchSampler(4, 2, mode="exact")
    trainer = SimpleNamespace(datamodule=SimpleNamespace(train_sampler=sampler))
    with pytest.raises(ValueError, match="data.refill=cached"):
        RefillCallback().on_fit_start(trainer, model)


# DCO with the exact refill rule, 2 epochs: training, refill scoring, evaluation and checkpointing all
# see the two ranks. N' = 1e8 with ε = 0.1 drops the tiny model's most confident examples (log p̂ ≳ −17).
# 7 held-out problems over 2 ranks: one is evaluated twice (padding) and counted once.
RUN = ["objective=dco", "objective.n=1e8", "objective.threshold=0.1", "data.refill=exact",
       "trainer.max_epochs=2", "trainer.limit_train_batches=null", "data.eval_problems=7"]


def test_two_gloo_processes_give_the_metrics_of_one_process_on_the_same_global_batch(tmp_path):
    """Same global batch of 16: one process × 16 against `trainer=ddp` with 2 CPU processes × 8.

    Tolerance: relative 1e-6 on log p̂ means and coverages (float32 training; DDP sums gradients
    in a different order; measured ≈ 2e-8). Refill drops and carries must be equal. Sampled pass@k
    is left out: its random stream depends on how problems are split into batches, by design.
    """
    one = tmp_path / "one"
    train(compose_config(RUN + ["data.batch_size=16"], run_dir=one))
    two = tmp_path / "two"
    cmd = [sys.executable, "-m", "src.run", *TINY, *RUN, "trainer=ddp", "trainer.devices=2",
           "trainer.precision=32-true", "data.batch_size=8", f"hydra.run.dir={two}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MEMBER: 2/2" in done.stdout + done.stderr  # really two processes

    m1, m2 = read_jsonl(one / "metrics.jsonl"), read_jsonl(two / "metrics.jsonl")
    assert [m["epoch"] for m in m2] == [1, 2] and [m["step"] for m in m2] == [m["step"] for m in m1]
    for a, b in zip(m1, m2):
        for split in ("test", "train"):
            assert b[split]["problems"] == a[split]["problems"]
            assert b[split]["ref_logp_mean"] == pytest.approx(a[split]["ref_logp_mean"], rel=1e-6)
            assert b[split]["coverage"] == pytest.approx(a[split]["coverage"], rel=1e-6)
        assert b["test"]["greedy_logp_mean"] == pytest.approx(a["test"]["greedy_logp_mean"], rel=1e-6)
        assert b["test"]["greedy_accuracy"] == a["test"]["greedy_accuracy"]
    assert refill_counts(two) == refill_counts(one) and refill_counts(one)[0][0] > 0  # drops happened
    rows1, rows2 = read_jsonl(one / "eval" / "epoch_002.jsonl"), read_jsonl(two / "eval" / "epoch_002.jsonl")
    assert [r["unique_id"] for r in rows2] == [r["unique_id"] for r in rows1]  # gathered, deduplicated, in order
    assert not (two / "train_ddp_process_1").exists() and (two / "meta.json").exists()


def refill_counts(run) -> list[tuple[float, float]]:
    rows = csv.DictReader(open(run / "logs" / "metrics.csv"))
    return [(float(r["refill/dropped"]), float(r["refill/carried"])) for r in rows if r.get("refill/dropped")]
