"""Generated theorems: provable by their recorded proofs, which are shortest; deterministic; pairs."""
from collections import Counter

import pytest

from conftest import in_fresh_interpreter
from pathlib import Path

from src.data.lean import TacticPair
from src.data.proof_sources import proof_to_pairs
from src.search.env import NO_GOALS
from src.search.theorems import (
    Theorem,
    generate_theorem,
    generate_theorems,
    replay,
    shortest_proof_length,
)

THEOREMS = generate_theorems(60, seed=0, lengths=range(1, 16))


def test_every_recorded_proof_replays_through_the_kernel():
    for theorem in THEOREMS:
        states = replay(theorem.statement, theorem.proof)
        assert states[-1].is_done and len(states) == theorem.length + 1


def test_lengths_span_one_to_more_than_ten():
    lengths = Counter(theorem.length for theorem in THEOREMS)
    assert set(lengths) == set(range(1, 16))


def test_recorded_proofs_are_shortest_in_the_atomic_vocabulary():
    for theorem in generate_theorems(80, seed=1, lengths=range(1, 11)):
        assert shortest_proof_length(theorem.statement, max_depth=theorem.length) == theorem.length, theorem


def test_shortest_proof_length_on_known_theorems():
    assert shortest_proof_length("p : Prop\nh : p\n⊢ p") == 1
    chain = "p q r s : Prop\nh1 : p → q\nh2 : q → r\nh3 : r → s\n⊢ p → s"
    assert shortest_proof_length(chain) == 5  # intro, apply ×3, exact
    assert shortest_proof_length(chain, max_depth=4) is None
    assert shortest_proof_length("p q : Prop\n⊢ p → q") is None  # not a theorem


def test_generation_is_deterministic_and_depends_on_the_seed():
    assert repr(generate_theorems(12, seed=7)) == in_fresh_interpreter("t.generate_theorems(12, seed=7)")
    assert generate_theorems(12, seed=7)[:5] == generate_theorems(5, seed=7)
    assert generate_theorems(12, seed=7) != generate_theorems(12, seed=8)
    assert repr(generate_theorem(6, seed="x")) == in_fresh_interpreter('t.generate_theorem(6, seed="x")')
    with pytest.raises(ValueError):
        generate_theorem(0, seed=0)


def test_pairs_have_the_leandojo_shape_and_chain_states():
    theorem = next(t for t in THEOREMS if t.length == 7)
    pairs = proof_to_pairs(theorem)
    assert len(pairs) == 7 and all(isinstance(p, TacticPair) for p in pairs)
    assert [p.step for p in pairs] == list(range(7))
    assert {p.proof_id for p in pairs} == {theorem.name}
    assert pairs[0].state == theorem.statement and pairs[-1].state_after == NO_GOALS
    assert [p.tactic for p in pairs] == list(theorem.proof)
    assert all(a.state_after == b.state for a, b in zip(pairs, pairs[1:]))


def test_pairs_of_a_wrong_or_incomplete_proof_are_refused():
    theorem = Theorem("t", "p q : Prop\nh : p → q\nhp : p\n⊢ q", ("apply h", "exact hp"))
    assert len(proof_to_pairs(theorem)) == 2
    with pytest.raises(ValueError, match="step 1"):
        proof_to_pairs(theorem, ["apply h", "exact h"])
    with pytest.raises(ValueError, match="open goals"):
        proof_to_pairs(theorem, ["apply h"])


def test_lean_statement():
    theorem = Theorem("t", "p q : Prop\nh : p → q\nhp : p\n⊢ q ∧ ¬p", ())
    assert theorem.to_lean() == "theorem t (p q : Prop) (h : p → q) (hp : p) : q ∧ ¬p := by"
