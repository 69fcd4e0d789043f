"""MathDataModule: MATH records → tokenized prompt/target pairs → (refilled) training batches."""
from __future__ import annotations

from functools import cached_property, partial
from typing import Any

import numpy as np
from torch.utils.data import DataLoader, DistributedSampler

from src.data.math import PROMPT_FORMATS
from src.data.refill import Refill, RefillBatchSampler
from src.data.resumable import ResumableDataLoader
from src.data.sources import MathSplits, load_math
from src.data.tokenized import Example, collate
from src.data.tokenized_datamodule import TokenizedDataModule
from src.utils.distributed import rank_and_world


class MathDataModule(TokenizedDataModule):
    """Serves MATH (or the built-in generator) in the direct-answer or chain-of-thought format.

    Validation has two loaders: `eval_problems` held-out problems (all metrics) and
    `eval_train_problems` training problems (teacher-forced coverage only, to watch memorisation).

    Under data parallelism the module shards its own loaders (the trainer configs set
    `use_distributed_sampler: false`): `batch_size` is per rank and the refill rule sees the global
    batch; validation gives each rank an equal-length strided share, padded with repeats that the
    evaluator drops when it gathers rows by example index.
    """

    def __init__(self, source: str = "auto", path: str | None = None, n_train: int | None = None,
                 n_test: int | None = None, synthetic: dict | None = None, prompt_format: str = "direct",
                 batch_size: int = 64, eval_batch_size: int = 64, max_prompt_tokens: int = 96,
                 max_target_tokens: int = 32, eval_problems: int | None = 200,
                 eval_train_problems: int = 200, refill: str = "off", seed: int = 0):
        super().__init__()
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"data.prompt_format={prompt_format!r}; accepted: {sorted(PROMPT_FORMATS)}")
        self.source_args = dict(source=source, path=path, n_train=n_train, n_test=n_test,
                                seed=seed, synthetic=dict(synthetic or {}))
        self.prompt_format, self.seed = prompt_format, seed
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.max_prompt_tokens, self.max_target_tokens = max_prompt_tokens, max_target_tokens
        self.eval_problems, self.eval_train_problems = eval_problems, eval_train_problems
        self.refill = Refill.parse(refill)
        self.train_sampler: RefillBatchSampler | None = None

    @cached_property
    def splits(self) -> MathSplits:
        return load_math(**self.source_args)

    def training_text(self) -> list[str]:
        """The text a fresh tokenizer is trained on: prompts and targets of the training split."""
        fmt = PROMPT_FORMATS[self.prompt_format]
        return [text for record in self.splits.train for text in fmt(record)]

    def setup(self, stage: str | None = None) -> None:
        self._require_tokenizer()
        if hasattr(self, "train_examples"):
            return
        self.train_examples = self._tokenize(self.splits.train, "train")
        self.test_examples = self._tokenize(self.splits.test, "test")
        rank, world_size = rank_and_world()
        self.train_sampler = RefillBatchSampler(len(self.train_examples), self.batch_size,
                                                mode=self.refill, seed=self.seed,
                                                rank=rank, world_size=world_size)

    def _tokenize(self, records, split: str) -> list[Example]:
        fmt = PROMPT_FORMATS[self.prompt_format]
        examples = self._tokenize_pairs([fmt(r) for r in records], split)
        return [Example(e.index, e.prompt_ids, e.target_ids, r.unique_id, r.answer)
                for e, r in zip(examples, records)]

    def _subset(self, examples: list[Example], k: int | None) -> list[Example]:
        if k is None or k >= len(examples):
            return examples
        keep = np.random.default_rng(self.seed).choice(len(examples), size=k, replace=False)
        return [examples[i] for i in sorted(keep)]

    @property
    def collate_fn(self):
        return partial(collate, pad_id=self.tokenizer.pad_token_id)

    def collate_indices(self, indices) -> dict[str, Any]:
        return self.collate_fn([self.train_examples[i] for i in indices])

    def train_dataloader(self) -> DataLoader:
        return ResumableDataLoader(self.train_examples, batch_sampler=self.train_sampler, collate_fn=self.collate_fn)

    def val_dataloader(self) -> list[DataLoader]:
        loaders = [self._eval_loader(self._subset(self.test_examples, self.eval_problems))]
        if self.eval_train_problems:
            loaders.append(self._eval_loader(self._subset(self.train_examples, self.eval_train_problems)))
        return loaders

    def _eval_loader(self, examples: list[Example]) -> DataLoader:
        rank, world_size = rank_and_world()
        sampler = DistributedSampler(examples, world_size, rank, shuffle=False) if world_size > 1 else None
        return DataLoader(examples, batch_size=self.eval_batch_size, sampler=sampler, collate_fn=self.collate_fn)

    def state_dict(self) -> dict:
        """The sampler's state across epochs; its place within the epoch is the training loader's state
        (src/data/resumable.py), which Lightning saves and restores itself."""
        return {"train_sampler": self.train_sampler.state_dict()} if self.train_sampler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if "train_sampler" in state:
            self.train_sampler.load_state_dict(state["train_sampler"])
