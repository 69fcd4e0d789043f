"""Theorem-proving data: held-out theorems are new, batches keep whole proofs, real LeanDojo/MiniF2F."""
from collections import Counter
from pathlib import Path

import pytest
import torch

from src.data.proof_batches import WholeProofBatchSampler
from src.data.proof_datamodule import ProofDataModule
from src.data.proof_sources import builtin_proofs, held_out_theorems, load_proofs
from src.models.tokenizer import train_bpe_tokenizer
from src.objectives.cross_entropy import CrossEntropy
from src.objectives.proof import DCOProof, DCOStep
from src.search.theorems import generate_theorems

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_builtin_held_out_theorems_never_repeat_a_training_statement():
    splits = builtin_proofs(n_train=60, n_test=12, train_lengths=[1, 2, 3], test_lengths=[2, 3, 4])
    train_statements = {p.state for p in splits.train if p.step == 0}
    assert len(splits.test) == 12 and not train_statements & {t.statement for t in splits.test}
    assert len({t.statement for t in splits.test}) == 12
    assert [t.length for t in splits.test[:3]] == [2, 3, 4] and splits.resolved_source == "builtin"
    steps = Counter(p.proof_id for p in splits.train)
    assert len(steps) == 60 and sorted(set(steps.values())) == [1, 2, 3]


def test_an_exhausted_proof_length_fails_loudly():
    every_length_one = {t.statement for t in generate_theorems(300, seed=9, lengths=[1])}
    with pytest.raises(ValueError, match="proof length 1"):
        held_out_theorems(3, seed=0, lengths=[1], exclude=every_length_one)
    with pytest.raises(ValueError, match="data.source"):
        load_proofs("hub")
    with pytest.raises(ValueError, match="data.eval_path"):
        load_proofs("leandojo", path="x")


def test_whole_proof_batches_keep_proofs_together_and_cover_every_step_once():
    proof_of_step = [p for p, length in enumerate([1, 5, 2, 7, 3, 3, 1, 4, 6, 2]) for _ in range(length)]
    sampler = WholeProofBatchSampler(proof_of_step, batch_size=8, seed=1)
    epochs = [list(sampler) for _ in range(3)]
    for batches in epochs:
        assert len(batches) == len(sampler) == 5  # ⌈34 / 8⌉, the same every epoch
        assert sorted(i for b in batches for i in b) == list(range(34))
        for batch in batches:
            assert Counter(proof_of_step[i] for i in batch) == Counter(
                {p: proof_of_step.count(p) for p in {proof_of_step[i] for i in batch}})
        assert max(map(len, batches)) - min(map(len, batches)) <= 7  # within the longest proof
    assert epochs[0] != epochs[1]
    sampler.load_state_dict({"epoch": 1})
    assert list(sampler) == epochs[1]


def test_ranks_share_one_dealing_of_whole_proofs():
    proof_of_step = [p for p in range(9) for _ in range(p % 4 + 1)]  # 9 proofs, 21 steps
    ranks = [WholeProofBatchSampler(proof_of_step, batch_size=4, seed=3, rank=r, world_size=2) for r in range(2)]
    batches = [list(sampler) for sampler in ranks]
    assert len(batches[0]) == len(batches[1]) == len(ranks[0]) == 3  # ⌈21 / (4 × 2)⌉ per rank
    assert sorted(i for rank in batches for b in rank for i in b) == list(range(21))
    with pytest.raises(ValueError, match="one proof per rank"):
        WholeProofBatchSampler([0, 0, 1], batch_size=4, world_size=3)


@pytest.fixture(scope="module")
def datamodule():
    dm = ProofDataModule(builtin={"n_train": 30, "n_test": 4, "train_lengths": [1, 2, 3, 4], "test_lengths": [2, 3]},
                         batch_size=8, eval_batch_size=2, max_prompt_tokens=128, max_target_tokens=16,
                         eval_train_steps=5)
    dm.attach_tokenizer(train_bpe_tokenizer(dm.training_text(), 300))
    dm.setup()
    return dm


def test_batches_carry_proof_ids_and_put_the_loss_on_the_tactic_only(datamodule):
    dm, pairs = datamodule, datamodule.splits.train
    batch = next(iter(dm.train_dataloader()))
    assert batch["proof_id"].shape == batch["index"].shape
    for row, index in enumerate(batch["index"].tolist()):
        target = batch["input_ids"][row][batch["target_mask"][row].bool()].tolist()
        assert dm.tokenizer.decode(target, skip_special_tokens=True) == pairs[index].tactic
        same_proof = [i for i, p in enumerate(pairs) if p.proof_id == pairs[index].proof_id]
        assert set(same_proof) <= set(batch["index"].tolist())  # the whole proof is in this batch
    logp = -torch.rand(len(batch["index"]), dtype=torch.float64)
    assert torch.isfinite(DCOProof(n=16)(logp, batch).losses).all()
    assert torch.allclose(DCOStep(n_eff=1)(logp).losses, CrossEntropy()(logp).losses)  # N_eff = 1 is CE


def test_validation_serves_theorems_then_training_steps(datamodule):
    theorems, steps = datamodule.val_dataloader()
    first = next(iter(theorems))
    assert set(first) == {"index", "name", "statement", "length", "header"} and first["length"] == [2, 3]
    assert sum(len(b["index"]) for b in steps) == 5


@pytest.mark.realdata
def test_leandojo_pairs_for_training_and_minif2f_statements_for_search():
    train, minif2f = DATA / "lean_tactics" / "leandojo4_random_test_sample100.json", DATA / "minif2f"
    if not train.exists():
        pytest.skip(f"staged data not found: {train}")
    splits = load_proofs("leandojo", path=str(train), eval_path=str(minif2f / "minif2f_test.jsonl"), n_test=10)
    assert len(splits.train) == 469 and len(splits.test) == 10
    assert all(t.statement.endswith(":= by\n") and t.header.startswith("import Mathlib") for t in splits.test)
    assert {t.length for t in splits.test} == {None} and splits.resolved_source.startswith("leandojo:")
    pairs_file = load_proofs("leandojo", path=str(train.with_name(train.stem + "_pairs.jsonl")),
                             eval_path=str(minif2f / "minif2f_lean4_deepseek.jsonl"), n_train=7)
    assert len({p.proof_id for p in pairs_file.train}) == 7 and len(pairs_file.test) == 244
    dm = ProofDataModule(source="leandojo", path=str(train), eval_path=str(minif2f / "minif2f_test.jsonl"),
                         batch_size=32, max_prompt_tokens=512, max_target_tokens=64)
    dm.attach_tokenizer(train_bpe_tokenizer(dm.training_text(), 400))
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert batch["proof_id"].unique().numel() >= 1 and batch["target_mask"].sum() > 0
