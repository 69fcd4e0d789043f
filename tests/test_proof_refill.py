"""Proofs refilled like the reference code: `data.refill` on proof data drops what the proof objective's
rule drops and tops the batch up with further proofs; training runs end to end."""
import csv
import math
from collections import Counter

import pytest
import torch

from conftest import compose_config
from src.data.proof_datamodule import ProofDataModule
from src.models.tokenizer import train_bpe_tokenizer
from src.run import train
from test_proof_pipeline import PROOF_TINY


def test_the_proof_module_serves_refilled_batches_only_when_the_rule_is_on():
    builtin = {"n_train": 12, "n_test": 2, "train_lengths": [1, 2, 3], "test_lengths": [2]}
    modules = {mode: ProofDataModule(builtin=builtin, batch_size=4, refill=mode) for mode in ("off", "exact")}
    tokenizer = train_bpe_tokenizer(modules["off"].training_text(), 300)
    for dm in modules.values():
        dm.attach_tokenizer(tokenizer)
        dm.setup()
    assert modules["off"].train_dataloader().batch_sampler is modules["off"].proof_sampler  # today's batches
    dm = modules["exact"]
    assert dm.train_dataloader().batch_sampler is dm.train_sampler
    steps = Counter(pair.proof_id for pair in dm.splits.train)
    batch = dm.collate_indices([0, 1, 2, 3, 4])  # what the refill scorer is given
    assert batch["proof_length"].tolist() == [steps[dm.splits.train[i].proof_id] for i in range(5)]
    assert sorted(map(len, dm.train_sampler.groups)) == sorted(steps.values())


# N (N_eff) so large that the untrained tactic model's likeliest proofs (steps) have F ≤ 0.1
@pytest.mark.parametrize("objective", ["dco_proof objective.n=1e12", "dco_step objective.n_eff=1e6"])
def test_a_refilled_proof_run_drops_refills_and_trains(tmp_path, objective):
    cfg = compose_config(["experiment=proof_dco_step", "hydra.mode=RUN", *PROOF_TINY, *f"objective={objective}".split(),
                          "objective.threshold=0.1", "data.refill=exact", "trainer.limit_train_batches=null",
                          "trainer.max_epochs=2", "trainer.log_every_n_steps=1"], run_dir=tmp_path, tiny=False)
    train(cfg)
    rows = list(csv.DictReader((tmp_path / "logs" / "metrics.csv").open()))
    refills = [r for r in rows if r.get("refill/dropped")]
    steps = [r for r in rows if r.get("train/loss")]
    assert len(refills) == 2 and all(float(r["refill/dropped"]) > 0 for r in refills)
    assert all(0 < float(r["refill/dropped_fraction"]) < 1 for r in refills)
    assert len(steps) >= 4 and all(math.isfinite(float(r["train/loss"])) and float(r["train/loss"]) > 0 for r in steps)
    assert all(float(r["train/kept"]) == 1.0 for r in steps)  # ε applied once: by the sampler, not again in the loss


def test_uniform_allocation_reads_the_whole_proofs_length_when_refill_dropped_some_of_its_steps():
    """Two steps of a 3-step proof survive the step-level rule: N_eff = N / 3, not N / 2."""
    from src.objectives.uniform_allocation import UniformAllocation

    half = torch.full((2,), math.log(0.5), dtype=torch.float64)
    out = UniformAllocation(n=6)(half, {"proof_id": torch.tensor([7, 7]), "proof_length": torch.tensor([3, 3])})
    torch.testing.assert_close(out.losses, torch.full((2,), -math.log(1 - 0.5**2), dtype=torch.float64))  # N_eff 2
