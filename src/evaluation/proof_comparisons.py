"""Trained tactic models compared at equal search budget: all of them as an ensemble against each
alone, and each under several search tree shapes.

The models, the held-out theorems and the search settings come from finished run folders (the
runs must share their data and evaluation settings); results are JSON-ready summaries of
`src.search.tree_search.summarize`. The two analyses at the end are the report steps of the
proof_ensemble and proof_tree_shapes experiments: they write ensemble.json / tree_shapes.json next to
the runs (reused while the runs and settings match), which src/figures/proof_reports.py draws.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace

import json
from pathlib import Path

import torch
from omegaconf import OmegaConf

from src.data.proof_sources import HeldOutTheorem, load_proofs
from src.evaluation.proof_evaluator import SearchConfig
from src.evaluation.tactic_policy import HFTacticPolicy
from src.models.checkpoint import load_run_model
from src.sampling import SamplingConfig
from src.search.backends import make_env
from src.search.ensemble import evaluate_ensemble, split_budget
from src.search.env import ProofEnv
from src.search.tree_search import TacticPolicy, evaluate
from src.utils.io import atomic_write_text
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
    data = configs[0].data  # read as values: nothing from a run folder is instantiated
    theorems = load_proofs(data.source, data.path, data.eval_path, data.eval_split, data.n_train, data.n_test,
                           OmegaConf.to_container(data.builtin), data.seed).test
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


def proof_label(meta: dict) -> str:
    """"CE", "CE (N_eff=1)", "N_eff=8", "DCO_proof N=64" — how a tactic model is named."""
    objective = meta.get("objective", {})
    name = objective.get("name", "?")
    if name == "dco_step":
        n_eff = objective["n_eff"]
        return "CE (N_eff=1)" if n_eff == 1 else f"N_eff={n_eff:g}"
    if name == "dco_proof":
        return f"DCO_proof N={objective['n']:g}"
    return "CE" if name == "cross_entropy" else name


def ensemble_analysis(root: Path, runs: list[RunDir]) -> None:
    """<root>/ensemble.json: `compare_ensemble` of the runs' models."""
    _cached(root / "ensemble.json", runs, {}, lambda: compare_ensemble(load_provers(runs, proof_label)))


def tree_shapes_analysis(root: Path, runs: list[RunDir]) -> None:
    """<root>/tree_shapes.json: `compare_shapes` over the `tree_shapes` of the runs' config."""
    shapes = OmegaConf.to_container(OmegaConf.load(runs[0].config).get("tree_shapes") or {})
    if not shapes:
        raise ValueError(f"{runs[0].config}: no `tree_shapes` (name → search fields) to compare")
    _cached(root / "tree_shapes.json", runs, shapes, lambda: compare_shapes(load_provers(runs, proof_label), shapes))


def _cached(path: Path, runs: list[RunDir], settings: dict, compute: Callable[[], dict]) -> dict:
    """`compute()`, unless `path` holds a result for the same runs, evaluation settings and `settings`."""
    key = {"runs": [str(r.path.resolve()) for r in runs], "settings": settings,
           "evaluation": OmegaConf.to_container(OmegaConf.load(runs[0].config).evaluation),
           "checkpoints": [(r.checkpoints / "last.ckpt").stat().st_mtime for r in runs]}
    if path.exists():
        stored = json.loads(path.read_text())
        if stored.get("key") == key:
            return stored["result"]
    result = json.loads(json.dumps(compute()))  # the same types whether computed or read back
    atomic_write_text(path, json.dumps({"key": key, "result": result}, indent=1) + "\n")  # keeps run order
    return result
