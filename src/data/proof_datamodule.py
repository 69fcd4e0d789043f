"""ProofDataModule: state → tactic pairs for training, held-out theorems for proof search.

Training batches are `collate` batches (loss on the tactic tokens only) plus `proof_id`, an integer
per step shared by the steps of one proof, and `proof_length`, that proof's number of steps. Every
proof stays inside one micro-batch, as `DCOProof` needs: with `refill=off` the balanced dealing of
`WholeProofBatchSampler` serves the batches; with the effective-batch rule (`refill=exact|cached`)
`train_sampler`, a `RefillBatchSampler` over proofs (a proof = the group of its steps), drops what the
objective's rule drops (whole proofs for DCOProof, steps for DCOStep) and refills the batch with
further proofs, `batch_size` counting steps. Validation has up to two loaders, read by
`src.evaluation.proof_evaluator.ProofSearchEvaluator`:

0. held-out theorems (index, name, statement, reference length, header) to prove by search;
1. a fixed subset of `eval_train_steps` training steps, whose teacher-forced log p̂ tracks confidence.

Under data parallelism (the trainer configs set `use_distributed_sampler: false`) the module shards
its own loaders: `batch_size` steps per rank, and each rank a contiguous share of both validation
sets, which the evaluator gathers by index.
"""
from __future__ import annotations

from functools import cached_property, partial

import numpy as np
import torch
from torch.utils.data import DataLoader

from src.data.lean import tactic_example
from src.data.proof_batches import WholeProofBatchSampler
from src.data.proof_sources import HeldOutTheorem, ProofSplits, load_proofs
from src.data.refill import Refill, RefillBatchSampler
from src.data.resumable import ResumableDataLoader
from src.data.tokenized import Example, collate
from src.data.tokenized_datamodule import TokenizedDataModule
from src.utils.distributed import rank_and_world, share


def collate_steps(steps: list[tuple[Example, int, int]], pad_id: int) -> dict:
    """`collate` of the examples, with `proof_id` (B,) the proof each step belongs to and
    `proof_length` (B,) that proof's number of steps (also where refill dropped some of them)."""
    batch = collate([example for example, _, _ in steps], pad_id)
    batch["proof_id"] = torch.tensor([proof for _, proof, _ in steps])
    batch["proof_length"] = torch.tensor([length for _, _, length in steps])
    return batch


def collate_theorems(theorems: list[tuple[int, HeldOutTheorem]]) -> dict[str, list]:
    return {"index": [i for i, _ in theorems], "name": [t.name for _, t in theorems],
            "statement": [t.statement for _, t in theorems], "length": [t.length for _, t in theorems],
            "header": [t.header for _, t in theorems]}


class ProofDataModule(TokenizedDataModule):
    def __init__(self, source: str = "builtin", path: str | None = None, eval_path: str | None = None,
                 eval_split: str | None = "test", n_train: int | None = None, n_test: int | None = None,
                 builtin: dict | None = None, batch_size: int = 64, eval_batch_size: int = 8,
                 max_prompt_tokens: int = 128, max_target_tokens: int = 16, eval_train_steps: int = 256,
                 refill: str = "off", seed: int = 0):
        super().__init__()
        self.source_args = dict(source=source, path=path, eval_path=eval_path, eval_split=eval_split,
                                n_train=n_train, n_test=n_test, builtin=dict(builtin or {}), seed=seed)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.max_prompt_tokens, self.max_target_tokens = max_prompt_tokens, max_target_tokens
        self.eval_train_steps, self.seed = eval_train_steps, seed
        self.refill = Refill.parse(refill)
        self.proof_sampler: WholeProofBatchSampler | None = None  # batches without refilling
        self.train_sampler: RefillBatchSampler | None = None  # the refill rule (src.run.callbacks.RefillCallback)

    @cached_property
    def splits(self) -> ProofSplits:
        return load_proofs(**self.source_args)

    def training_text(self) -> list[str]:
        """The text a fresh tokenizer is trained on: prompts and tactics of the training steps."""
        return [text for pair in self.splits.train for text in tactic_example(pair)]

    def setup(self, stage: str | None = None) -> None:
        self._require_tokenizer()
        if hasattr(self, "train_steps"):
            return
        pairs = self.splits.train
        examples = self._tokenize_pairs([tactic_example(p) for p in pairs], "train")
        proof_number = {proof: i for i, proof in enumerate(dict.fromkeys(p.proof_id for p in pairs))}
        steps_of: list[list[int]] = [[] for _ in proof_number]
        for step, pair in enumerate(pairs):
            steps_of[proof_number[pair.proof_id]].append(step)
        self.train_steps = [(Example(e.index, e.prompt_ids, e.target_ids, p.proof_id, p.tactic),
                             proof_number[p.proof_id], len(steps_of[proof_number[p.proof_id]]))
                            for e, p in zip(examples, pairs)]
        rank, world_size = rank_and_world()
        self.proof_sampler = WholeProofBatchSampler([proof for _, proof, _ in self.train_steps], self.batch_size,
                                                    seed=self.seed, rank=rank, world_size=world_size)
        self.train_sampler = RefillBatchSampler(steps_of, self.batch_size, mode=self.refill, seed=self.seed,
                                                rank=rank, world_size=world_size)

    @property
    def collate_fn(self):
        return partial(collate_steps, pad_id=self.tokenizer.pad_token_id)

    def collate_indices(self, indices) -> dict:
        return self.collate_fn([self.train_steps[i] for i in indices])

    def train_dataloader(self) -> DataLoader:
        """Refilled batches when the refill rule is active (RefillCallback turns it off for objectives
        without one), else the balanced whole-proof dealing."""
        sampler = self.train_sampler if self.train_sampler.refill.active else self.proof_sampler
        return ResumableDataLoader(self.train_steps, batch_sampler=sampler, collate_fn=self.collate_fn)

    def val_dataloader(self) -> list[DataLoader]:
        rank, world_size = rank_and_world()
        theorems = share(list(enumerate(self.splits.test)), rank, world_size)
        loaders = [DataLoader(theorems, batch_size=self.eval_batch_size, collate_fn=collate_theorems)]
        if self.eval_train_steps:
            steps = self.train_steps
            if self.eval_train_steps < len(steps):
                keep = np.random.default_rng(self.seed).choice(len(steps), size=self.eval_train_steps, replace=False)
                steps = [steps[i] for i in sorted(keep)]
            loaders.append(DataLoader(share(steps, rank, world_size), batch_size=64, collate_fn=self.collate_fn))
        return loaders

    def state_dict(self) -> dict:
        """The samplers' state across epochs; their place within the epoch is the training loader's state
        (src/data/resumable.py), which Lightning saves and restores itself."""
        if self.proof_sampler is None:
            return {}
        return {"proof_sampler": self.proof_sampler.state_dict(), "train_sampler": self.train_sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "proof_sampler" in state:
            self.proof_sampler.load_state_dict(state["proof_sampler"])
        if "train_sampler" in state:
            self.train_sampler.load_state_dict(state["train_sampler"])
