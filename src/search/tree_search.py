"""Proof search under a fixed budget of sampled tactics (the N of pass@N, counted per tactic).

Two strategies share one contract, `strategy.search(env, statement, policy, budget) -> SearchResult`:

- `ShapedTreeSearch(widths)`: level by level, every node at depth d gets `widths[d]` sampled tactics
  (the last width repeats below). `[16, 4, 2]` is wide and shallow, `[2]` narrow and deep: the shape
  that suits a model trained with DCO_step at a given N_eff (a k-step proof needs about N_eff^k
  samples). Within a level the most probable nodes (cumulative log-prob) are expanded first.
- `BestFirstSearch(k)`: always expand the open node with the highest cumulative log-prob.

Both count every sampled tactic against the budget (duplicates included, as a sampler pays for
them), run each distinct tactic of a node once, drop failed tactics, and keep a state only the first
time it is reached (dedup by goal text). They stop at the first complete proof.
"""
from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tqdm import tqdm

from src.search.env import ProofEnv, ProofState


@runtime_checkable
class TacticPolicy(Protocol):
    def sample(self, states: list[str], k: int) -> list[list[tuple[str, float]]]:
        """For each state text, k sampled tactics with their log-probabilities (duplicates allowed)."""
        ...


@dataclass
class SearchResult:
    solved: bool
    proof: list[str]  # the tactics from the statement to `no goals` (empty when unsolved)
    samples: int  # tactics sampled from the policy: the budget spent
    expanded: int  # nodes the policy was asked about
    depth: int  # proof length when solved, else the deepest state reached


@dataclass
class _Node:
    state: ProofState
    logprob: float = 0.0  # Σ log p(tactic | state) along the path
    depth: int = 0
    parent: _Node | None = None
    tactic: str | None = None

    def proof(self) -> list[str]:
        node, tactics = self, []
        while node.parent is not None:
            tactics.append(node.tactic)
            node = node.parent
        return tactics[::-1]


@dataclass
class _Search:
    """Bookkeeping shared by the strategies: budget, dedup, children of one expansion."""

    env: ProofEnv
    policy: TacticPolicy
    budget: int
    samples: int = 0
    expanded: int = 0
    deepest: int = 0
    seen: set[str] = field(default_factory=set)

    def left(self) -> int:
        return self.budget - self.samples

    def expand(self, nodes: list[_Node], k: int) -> tuple[list[_Node], _Node | None]:
        """Sample k tactics for each node; return the new children and a proved node, if any."""
        sampled = self.policy.sample([node.state.text for node in nodes], k)
        if len(sampled) != len(nodes):
            raise ValueError(f"policy returned {len(sampled)} lists of tactics for {len(nodes)} states")
        self.samples += k * len(nodes)
        self.expanded += len(nodes)
        children = []
        for node, tactics in zip(nodes, sampled):
            best = {}  # distinct tactics of this node, keeping the first sample's log-prob
            for tactic, logprob in tactics:
                best.setdefault(tactic.strip(), logprob)
            for tactic, logprob in best.items():
                result = self.env.apply(node.state, tactic)
                if not result.ok or result.state.text in self.seen:
                    continue
                child = _Node(result.state, node.logprob + logprob, node.depth + 1, node, tactic)
                if result.proved:
                    return children, child
                self.seen.add(result.state.text)
                self.deepest = max(self.deepest, child.depth)
                children.append(child)
        return children, None

    def result(self, proved: _Node | None) -> SearchResult:
        proof = proved.proof() if proved else []
        depth = len(proof) if proved else self.deepest
        return SearchResult(proved is not None, proof, self.samples, self.expanded, depth)


def _root(env: ProofEnv, statement: str, policy: TacticPolicy, budget: int) -> tuple[_Search, _Node]:
    if budget < 1:
        raise ValueError(f"budget must be a positive number of tactic samples, got {budget}")
    search = _Search(env, policy, budget)
    root = _Node(env.start(statement))
    search.seen.add(root.state.text)
    return search, root


@dataclass
class ShapedTreeSearch:
    widths: Sequence[int] = (16, 4, 2)  # tactics sampled per node at depth 0, 1, …; the last repeats
    max_depth: int | None = None

    def __post_init__(self):
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"widths must be positive integers, got {list(self.widths)}")

    def search(self, env: ProofEnv, statement: str, policy: TacticPolicy, budget: int) -> SearchResult:
        search, root = _root(env, statement, policy, budget)
        if root.state.is_done:
            return search.result(root)
        level, depth = [root], 0
        while level and search.left() > 0 and (self.max_depth is None or depth < self.max_depth):
            width = self.widths[min(depth, len(self.widths) - 1)]
            level.sort(key=lambda node: -node.logprob)  # if the budget runs out, the likeliest go first
            affordable, remainder = divmod(search.left(), width)
            next_level = []
            for nodes, k in ((level[:affordable], width), (level[affordable : affordable + 1], remainder)):
                if nodes and k:
                    children, proved = search.expand(nodes, k)
                    if proved:
                        return search.result(proved)
                    next_level += children
            level, depth = next_level, depth + 1
        return search.result(None)


@dataclass
class BestFirstSearch:
    k: int = 8  # tactics sampled per expanded node
    nodes_per_call: int = 1  # expand this many best nodes per policy call (batching for models)
    max_depth: int | None = None

    def __post_init__(self):
        if self.k < 1 or self.nodes_per_call < 1:
            raise ValueError(f"k and nodes_per_call must be ≥ 1, got {self.k} and {self.nodes_per_call}")

    def search(self, env: ProofEnv, statement: str, policy: TacticPolicy, budget: int) -> SearchResult:
        search, root = _root(env, statement, policy, budget)
        if root.state.is_done:
            return search.result(root)
        order = itertools.count()  # ties: first come, first served
        queue = [(-root.logprob, next(order), root)]
        while queue and search.left() > 0:
            k = min(self.k, search.left())
            count = min(self.nodes_per_call, len(queue), search.left() // k)
            nodes = [heapq.heappop(queue)[2] for _ in range(count)]
            children, proved = search.expand(nodes, k)
            if proved:
                return search.result(proved)
            for child in children:
                if self.max_depth is None or child.depth < self.max_depth:
                    heapq.heappush(queue, (-child.logprob, next(order), child))
        return search.result(None)


class SearchStrategy(Protocol):
    def search(self, env: ProofEnv, statement: str, policy: TacticPolicy, budget: int) -> SearchResult: ...


def summarize(results: Sequence[SearchResult], budget: int, reference_lengths: Sequence[int] | None = None) -> dict:
    """pass@budget (fraction solved), solved-proof lengths and, given each theorem's known proof
    length, pass@budget per length."""
    solved = [r for r in results if r.solved]
    summary = {
        "budget": budget,
        "theorems": len(results),
        "solved": len(solved),
        "pass@budget": len(solved) / len(results) if results else 0.0,
        "proof_lengths": dict(sorted(Counter(len(r.proof) for r in solved).items())),
        "mean_samples": sum(r.samples for r in results) / len(results) if results else 0.0,
    }
    if reference_lengths is not None:
        if len(reference_lengths) != len(results):
            raise ValueError(f"{len(reference_lengths)} reference lengths for {len(results)} theorems")
        by_length: dict[int, list[bool]] = {}
        for length, result in zip(reference_lengths, results):
            by_length.setdefault(length, []).append(result.solved)
        summary["pass@budget_by_length"] = {n: sum(s) / len(s) for n, s in sorted(by_length.items())}
    return summary


def evaluate(
    statements: Sequence[str],
    env: ProofEnv,
    policy: TacticPolicy,
    strategy: SearchStrategy,
    budget: int,
    reference_lengths: Sequence[int] | None = None,
    progress: bool = True,
) -> dict:
    """Search every statement with the same budget; `summarize` plus the per-theorem `results`."""
    results = []
    bar = tqdm(statements, desc=f"proof search (budget {budget})", disable=not progress)
    for statement in bar:
        results.append(strategy.search(env, statement, policy, budget))
        bar.set_postfix(solved=sum(r.solved for r in results))
    return summarize(results, budget, reference_lengths) | {"results": results}
