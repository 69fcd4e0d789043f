"""Trained tactic models compared at equal search budget: all of them as an ensemble against each
alone, and each under several search tree shapes.

The models, the held-out theorems and the search settings come from finished run folders (the
runs must share their data and evaluation settings); results are JSON-ready summaries of
`src.search.tree_search.summarize`, for the reports in src/proof_reports.py.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from src.data.proof_sources import HeldOutTheorem
from src.evaluation.proof_evaluator import SearchConfig
from src.evaluation.sampling import SamplingConfig
from src.evaluation.tactic_policy import HFTacticPolicy
from src.models.checkpoint import load_run_model
from src.search.backends import make_env
from src.search.ensemble import evaluate_ensemble, split_budget
from src.search.env import ProofEnv
from src.search.tree_search import TacticPolicy, evaluate
from src.utils.run_dir import RunDir


@dataclass
class Provers:
    policies: dict[str, TacticPolicy]  # label → policy, in run order
    theorems: list[HeldOutTheorem]
    search: SearchConfig
    env: ProofEnv
    seed: int

    def run(self, policy: TacticPolicy, search: SearchConfig) -> dict:
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            report = evaluate([t.statement for t in self.theorems], self.env, policy, search.build(),
                              search.budget, self.lengths())
        return without_results(report)

    def lengths(self) -> list[int] | None:
        lengths = [t.length for t in self.theorems]
        return None if None in lengths else lengths


def without_results(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "results"}


def load_provers(runs: list[RunDir], label: Callable[[dict], str], device: str | None = None) -> Provers:
    """Each run's last checkpoint as a policy, named `label(meta)` (the run folder's name on a tie)."""
    if not runs:
        raise ValueError("no runs to compare")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    configs = [OmegaConf.load(run.config) for run in runs]
    for run, cfg in zip(runs[1:], configs[1:]):
        for section in ("data", "evaluation"):
            if cfg[section] != configs[0][section]:
                raise ValueError(f"{run.path}: its `{section}` settings differ from {runs[0].path}'s; "
                                 "compared models must share the held-out theorems and the search")
    evaluation = configs[0].evaluation
    theorems = instantiate(configs[0].data).splits.test
    headers = {t.header for t in theorems}
    if len(headers) != 1:
        raise ValueError(f"the held-out theorems need {len(headers)} different headers; compare one at a time")
    labels = [label(run.meta()) for run in runs]
    labels = [name if labels.count(name) == 1 else f"{name} [{run.path.name}]" for name, run in zip(labels, runs)]
    sampling = SamplingConfig(**evaluation.sampling)
    policies = {}
    for name, run in zip(labels, runs):
        model, tokenizer, _ = load_run_model(run, device)
        policies[name] = HFTacticPolicy(model, tokenizer, sampling, evaluation.max_prompt_tokens)
    env = make_env(evaluation.env, headers.pop(), OmegaConf.to_container(evaluation.lean))
    search = SearchConfig(**OmegaConf.to_container(evaluation.search))
    return Provers(policies, theorems, search, env, int(evaluation.seed))


def compare_ensemble(provers: Provers) -> dict:
    """m models, per-model budget b (the runs' evaluation budget): the ensemble searches with m·b split
    equally (each member b, solved if any member solves), each model alone with the same m·b, and
    each model alone with b (its share) — the paper's five models × 4k against one model at 20k."""
    names, share = list(provers.policies), provers.search.budget
    budget = share * len(names)
    with torch.random.fork_rng():
        torch.manual_seed(provers.seed)
        report = evaluate_ensemble([t.statement for t in provers.theorems], provers.env, provers.policies,
                                   provers.search.build(), budget, reference_lengths=provers.lengths())
    alone = replace(provers.search, budget=budget)
    return {
        "budget": budget,
        "shares": dict(zip(names, split_budget(budget, [1.0] * len(names)))),
        "single": {name: provers.run(policy, alone) for name, policy in provers.policies.items()},
        "member_at_share": report["members"],
        "ensemble": without_results(report),
    }


def compare_shapes(provers: Provers, shapes: Mapping[str, Mapping]) -> dict:
    """{shape: {model: summary}}: each shape is a set of SearchConfig fields over the runs' own
    (e.g. {"narrow": {"strategy": "shaped", "widths": [2]}}), at the runs' budget unless it says."""
    base = asdict(provers.search)
    return {
        shape: {name: provers.run(policy, SearchConfig(**{**base, **dict(fields)}))
                for name, policy in provers.policies.items()}
        for shape, fields in shapes.items()
    }
