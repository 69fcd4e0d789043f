"""Ensembles of tactic policies: one budget split across members, solved if any member solves.

The paper's theorem-proving ensemble is five models trained with DCO_step at N_eff ∈ {1, 4, 8, 16,
32}: small N_eff suits long proofs (narrow, deep search), large N_eff short ones. Compare an ensemble
at budget N with each member at budget N (same compute) and at N/5 (its share).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from src.search.env import ProofEnv
from src.search.tree_search import SearchResult, SearchStrategy, TacticPolicy, summarize


def split_budget(budget: int, weights: Sequence[float]) -> list[int]:
    """Integer shares proportional to `weights` that add up to `budget` (largest remainders)."""
    if not weights or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {list(weights)}")
    exact = [budget * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - exact[i])
    for i in by_remainder[: budget - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass
class EnsembleResult:
    solved: bool
    proof: list[str]  # from the first member (in order) that solved it
    members: dict[str, SearchResult]

    def combined(self) -> SearchResult:
        """The ensemble seen as one search: budgets and expansions add up."""
        members = self.members.values()
        depth = len(self.proof) if self.solved else max((r.depth for r in members), default=0)
        samples, expanded = sum(r.samples for r in members), sum(r.expanded for r in members)
        return SearchResult(self.solved, self.proof, samples, expanded, depth)


def ensemble_search(
    env: ProofEnv,
    statement: str,
    policies: Mapping[str, TacticPolicy],
    strategy: SearchStrategy,
    budget: int,
    weights: Sequence[float] | None = None,
) -> EnsembleResult:
    """Every member searches alone with its share of the budget (equal shares by default)."""
    shares = split_budget(budget, weights or [1.0] * len(policies))
    members = {
        name: strategy.search(env, statement, policy, share) if share > 0 else SearchResult(False, [], 0, 0, 0)
        for (name, policy), share in zip(policies.items(), shares)
    }
    solved = [r for r in members.values() if r.solved]
    return EnsembleResult(bool(solved), solved[0].proof if solved else [], members)


def evaluate_ensemble(
    statements: Sequence[str],
    env: ProofEnv,
    policies: Mapping[str, TacticPolicy],
    strategy: SearchStrategy,
    budget: int,
    weights: Sequence[float] | None = None,
    reference_lengths: Sequence[int] | None = None,
    progress: bool = True,
) -> dict:
    """The union's pass@budget, and each member's pass rate at its share of the budget."""
    if len(policies) == 0:
        raise ValueError("an ensemble needs at least one policy")
    shares = split_budget(budget, weights or [1.0] * len(policies))
    results = []
    bar = tqdm(statements, desc=f"ensemble search (budget {budget})", disable=not progress)
    for statement in bar:
        results.append(ensemble_search(env, statement, policies, strategy, budget, weights))
        bar.set_postfix(solved=sum(r.solved for r in results))
    members = {
        name: summarize([r.members[name] for r in results], share, reference_lengths)
        for name, share in zip(policies, shares)
    }
    union = summarize([r.combined() for r in results], budget, reference_lengths)
    return union | {"members": members, "results": results}
