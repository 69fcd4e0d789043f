"""Proof search under a tactic budget: finds proofs, spends exactly its budget, dedups, ensembles."""
import math
from dataclasses import dataclass, field

import pytest

from src.search.ensemble import evaluate_ensemble, split_budget
from src.search.env import StepResult
from src.search.propositional import PropositionalEnv, VocabularyPolicy
from src.data.proof_sources import proof_to_pairs
from src.search.theorems import generate_theorems, replay
from src.search.tree_search import BestFirstSearch, ShapedTreeSearch, TacticPolicy, evaluate

THEOREMS = generate_theorems(12, seed=3, lengths=range(1, 7))


class ScriptedPolicy:
    """Knows the recorded proofs: the right tactic (probability 0.9) among distractors that are
    valid but useless (`exfalso`) or invalid; states it does not know get only distractors."""

    def __init__(self, theorems):
        self.right = {p.state: p.tactic for t in theorems for p in proof_to_pairs(t)}

    def sample(self, states, k):
        samples = []
        for state in states:
            distractors = [("exfalso", math.log(0.05)), ("nonsense", math.log(0.05))]
            options = ([(self.right[state], math.log(0.9))] if state in self.right else []) + distractors
            samples.append([options[i % len(options)] for i in range(k)])
        return samples


def test_shaped_tree_search_finds_a_valid_proof():
    env, theorem = PropositionalEnv(), THEOREMS[5]
    result = ShapedTreeSearch(widths=[4]).search(env, theorem.statement, ScriptedPolicy(THEOREMS), 200)
    assert result.solved and result.depth == len(result.proof) == theorem.length
    assert replay(theorem.statement, result.proof)[-1].is_done
    assert result.samples <= 200


def test_best_first_follows_the_most_probable_path():
    theorem = THEOREMS[5]
    result = BestFirstSearch(k=3).search(PropositionalEnv(), theorem.statement, ScriptedPolicy(THEOREMS), 100)
    assert result.solved and result.proof == list(theorem.proof)
    assert result.expanded == theorem.length and result.samples == 3 * theorem.length


def test_unprovable_statement_is_unsolved_without_a_proof():
    for strategy in (ShapedTreeSearch([8, 2]), BestFirstSearch(k=8)):
        result = strategy.search(PropositionalEnv(), "p q : Prop\n⊢ p → q", VocabularyPolicy(0), 500)
        assert not result.solved and result.proof == [] and result.samples <= 500


@dataclass
class EndlessEnv:
    """Every tactic reaches a new state (or, with `merge`, the same one); no proof ever."""

    merge: bool = False
    calls: int = 0

    def start(self, statement):
        return _Text(statement)

    def apply(self, state, tactic, goal=None):
        self.calls += 1
        return StepResult(state=_Text("s" if self.merge else f"{state.text}/{tactic}"))


@dataclass(frozen=True)
class _Text:
    text: str
    is_done: bool = False


@dataclass
class CountingPolicy:
    same_tactic: bool = False
    sampled: int = field(default=0)

    def sample(self, states, k):
        self.sampled += k * len(states)
        return [[("t" if self.same_tactic else f"t{i}", -1.0) for i in range(k)] for _ in states]


@pytest.mark.parametrize(
    "strategy, budget, expanded",
    [
        (ShapedTreeSearch([3, 2]), 10, 5),  # root 3, three nodes × 2, one node × the last 1
        (ShapedTreeSearch([3, 2]), 2, 1),  # a partial root
        (ShapedTreeSearch([5]), 31, 7),
        (BestFirstSearch(k=4), 10, 3),  # 4 + 4 + 2
        (BestFirstSearch(k=4, nodes_per_call=3), 30, 8),
    ],
)
def test_the_budget_is_spent_exactly(strategy, budget, expanded):
    policy = CountingPolicy()
    result = strategy.search(EndlessEnv(), "root", policy, budget)
    assert not result.solved
    assert result.samples == policy.sampled == budget
    assert result.expanded == expanded


def test_states_and_tactics_are_deduplicated():
    env, policy = EndlessEnv(merge=True), CountingPolicy(same_tactic=True)
    result = ShapedTreeSearch([4]).search(env, "root", policy, 100)
    assert result.expanded == 2 and result.samples == 8  # "s" is expanded once; its children are old
    assert env.calls == 2  # four samples of one tactic run it once per node


def test_invalid_budget_and_policy_are_refused():
    with pytest.raises(ValueError, match="budget"):
        BestFirstSearch().search(PropositionalEnv(), "p → p", VocabularyPolicy(), 0)

    class Broken:
        def sample(self, states, k):
            return []

    with pytest.raises(ValueError, match="policy returned"):
        BestFirstSearch().search(PropositionalEnv(), "p → p", Broken(), 8)
    assert isinstance(VocabularyPolicy(), TacticPolicy)


def test_evaluate_reports_pass_at_budget_by_length():
    theorems = generate_theorems(9, seed=0, lengths=range(1, 4))
    report = evaluate(
        [t.statement for t in theorems], PropositionalEnv(), VocabularyPolicy(0), BestFirstSearch(k=16), 128,
        reference_lengths=[t.length for t in theorems], progress=False,
    )  # fmt: skip
    assert report["theorems"] == 9 and len(report["results"]) == 9
    assert report["pass@budget"] == report["solved"] / 9 >= 2 / 3  # 9 / 9 with this seed
    assert set(report["pass@budget_by_length"]) == {1, 2, 3} and report["pass@budget_by_length"][1] == 1.0
    assert sum(report["proof_lengths"].values()) == report["solved"]


# ---------------------------------------------------------------- ensembles


def test_split_budget():
    assert split_budget(10, [1, 1, 1]) == [4, 3, 3]
    assert split_budget(8, [3, 1]) == [6, 2]
    assert split_budget(5, [1, 0]) == [5, 0]
    assert sum(split_budget(4096, [1, 2, 3, 4, 5])) == 4096
    with pytest.raises(ValueError):
        split_budget(10, [0, 0])


def test_ensemble_solves_the_union_of_its_members():
    first, second = THEOREMS[:6], THEOREMS[6:]
    policies = {"first": ScriptedPolicy(first), "second": ScriptedPolicy(second)}
    report = evaluate_ensemble(
        [t.statement for t in THEOREMS], PropositionalEnv(), policies, BestFirstSearch(k=3), 64, progress=False
    )
    assert report["pass@budget"] == 1.0
    assert report["members"]["first"]["pass@budget"] == report["members"]["second"]["pass@budget"] == 0.5
    assert report["members"]["first"]["budget"] == 32
    assert all(r.combined().samples <= 64 for r in report["results"])
    uneven = evaluate_ensemble(
        [t.statement for t in first], PropositionalEnv(), policies, BestFirstSearch(k=3), 64,
        weights=[1, 0], progress=False,
    )  # fmt: skip
    assert uneven["pass@budget"] == 1.0 and uneven["members"]["second"]["solved"] == 0
