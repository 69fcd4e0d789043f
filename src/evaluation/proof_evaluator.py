"""Per-epoch proof search with the current weights, as the LightningModule's pluggable evaluator.

Every held-out theorem (validation loader 0 of `ProofDataModule`) is searched with the model as an
`HFTacticPolicy` under one budget of sampled tactics; after the epoch the results are summarised
by `src.search.tree_search.summarize`: pass@budget overall and by reference proof length, and the
lengths of the proofs found. Training steps (loader 1) give the teacher-forced per-step log p̂,
the confidence DCO_step limits.

Under data parallelism each rank searches its share of the theorems; rows are keyed by theorem
index, gathered and summarised on rank 0, and the metrics broadcast so every rank logs the same.
Search runs a data-dependent number of forward passes, so sharded weights (FSDP, ZeRO-3) are refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from src.sampling import SamplingConfig
from src.evaluation.tactic_policy import HFTacticPolicy
from src.models.logprobs import target_logp
from src.search.backends import ENVS, make_env
from src.search.env import ProofEnv
from src.search.tree_search import BestFirstSearch, SearchResult, SearchStrategy, ShapedTreeSearch, summarize
from src.utils.distributed import broadcast_from_rank_zero, merge_on_rank_zero, parameters_are_sharded, rank_and_world

THEOREMS, TRAIN_STEPS = 0, 1  # validation loaders
STRATEGIES = ("shaped", "best_first")


@dataclass
class SearchConfig:
    strategy: str = "best_first"  # shaped: fixed widths per depth; best_first: by cumulative log-prob
    budget: int = 64  # tactic samples per theorem (the N of pass@N)
    widths: list[int] = field(default_factory=lambda: [4])  # shaped: per depth, the last repeats
    k: int = 8  # best_first: tactics sampled per expanded node
    nodes_per_call: int = 4  # best_first: nodes expanded per policy call (batching)
    max_depth: int | None = 16

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"search.strategy={self.strategy!r}; accepted: {list(STRATEGIES)}")
        if self.budget < 1:
            raise ValueError(f"search.budget={self.budget}; must be ≥ 1 tactic sample")

    def build(self) -> SearchStrategy:
        if self.strategy == "shaped":
            return ShapedTreeSearch(list(self.widths), self.max_depth)
        return BestFirstSearch(self.k, self.nodes_per_call, self.max_depth)


def result_row(name: str, reference_length: int | None, result: SearchResult) -> dict:
    return {"name": name, "reference_length": reference_length, "solved": result.solved, "proof": result.proof,
            "samples": result.samples, "expanded": result.expanded, "depth": result.depth}


class ProofSearchEvaluator:
    """`search`: SearchConfig fields; `sampling`: SamplingConfig fields; `env`: builtin | lean
    (`lean`: {mathlib, lean_version, timeout}); `max_prompt_tokens`: as in training."""

    def __init__(self, search: dict | None = None, sampling: dict | None = None, env: str = "builtin",
                 lean: dict | None = None, max_prompt_tokens: int = 128, seed: int = 0):
        self.search, self.sampling = SearchConfig(**(search or {})), SamplingConfig(**(sampling or {}))
        self.strategy = self.search.build()
        self.env_kind, self.lean_options = env, dict(lean or {})
        if env not in ENVS:  # fail now, not after the first epoch
            raise ValueError(f"evaluation.env={env!r}; accepted: {list(ENVS)}")
        self.max_prompt_tokens, self.seed = max_prompt_tokens, seed
        self.envs: dict[str, ProofEnv] = {}  # one per Lean header, created on first use
        self.start()

    def start(self) -> None:
        self.results: dict[int, SearchResult] = {}  # by theorem index
        self.rows: dict[int, dict] = {}
        self.train_logp: dict[int, float] = {}  # by training-step index

    def env(self, header: str) -> ProofEnv:
        if header not in self.envs:
            self.envs[header] = make_env(self.env_kind, header, self.lean_options)
        return self.envs[header]

    @torch.no_grad()
    def step(self, module, batch: dict, batch_idx: int, dataloader_idx: int) -> None:
        if dataloader_idx == TRAIN_STEPS:
            self.train_logp.update(zip(batch["index"].tolist(), target_logp(module.model, batch).double().tolist()))
            return
        if parameters_are_sharded(module.model):
            raise ValueError("proof search runs a different number of forward passes on each rank, which "
                             "sharded weights (FSDP, DeepSpeed ZeRO-3) do not allow; use trainer=ddp")
        policy = HFTacticPolicy(module.model, module.tokenizer, self.sampling, self.max_prompt_tokens)
        devices = [module.device] if module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # searching never shifts the training RNG
            torch.manual_seed(self.seed * 100_003 + module.current_epoch * 1009 + batch_idx)
            for index, name, statement, length, header in zip(batch["index"], batch["name"], batch["statement"],
                                                              batch["length"], batch["header"]):
                result = self.strategy.search(self.env(header), statement, policy, self.search.budget)
                self.results[index] = result
                self.rows[index] = result_row(name, length, result)

    def finish(self, module) -> tuple[dict, list[dict]]:
        """(metrics, one row per held-out theorem) for the epoch just evaluated: the rows only on
        rank 0, the same metrics on every rank."""
        results, rows = merge_on_rank_zero(self.results), merge_on_rank_zero(self.rows)
        train_logp = list(merge_on_rank_zero(self.train_logp).values())
        order = sorted(rows)
        metrics = {}
        if rank_and_world()[0] == 0:
            lengths = [rows[i]["reference_length"] for i in order]
            known = lengths if lengths and None not in lengths else None
            metrics["test"] = summarize([results[i] for i in order], self.search.budget, known)
            if train_logp:
                metrics["train"] = {"step_logp": sum(train_logp) / len(train_logp),
                                    "step_p": sum(map(math.exp, train_logp)) / len(train_logp)}
        return broadcast_from_rank_zero(metrics), [rows[i] for i in order]
