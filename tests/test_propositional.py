"""The propositional kernel: every step checked, Lean-style printing, no exception escapes a tactic."""
import random

import pytest

from src.search.env import NO_GOALS, ProofEnv, StepResult
from src.search.propositional import (
    FALSE,
    TRUE,
    And,
    Atom,
    Imp,
    Or,
    PropositionalEnv,
    neg,
    parse_formula,
    parse_goal,
    parse_state,
)

ENV = PropositionalEnv()


def run(statement: str, tactic: str) -> StepResult:
    return ENV.apply(ENV.start(statement), tactic)


# (statement, tactic, the state after it, or None when the tactic must fail with `error`)
CASES = [
    ("p q : Prop\n⊢ p → q → p", "intro hp", "p q : Prop\nhp : p\n⊢ q → p", None),
    ("p q : Prop\n⊢ p → q → p", "intro hp hq", "p q : Prop\nhp : p\nhq : q\n⊢ p", None),
    ("p : Prop\n⊢ p", "intro h", None, "insufficient number of binders"),
    ("p : Prop\n⊢ p → p", "intro", None, "give a name"),
    ("p q : Prop\nh : p → q\nhp : p\n⊢ q", "apply h", "p q : Prop\nh : p → q\nhp : p\n⊢ p", None),
    ("p q r : Prop\nh : p → q → r\n⊢ r", "apply h",
     "p q r : Prop\nh : p → q → r\n⊢ p\n\np q r : Prop\nh : p → q → r\n⊢ q", None),
    ("p q r : Prop\nh : p → q → r\n⊢ q → r", "apply h", "p q r : Prop\nh : p → q → r\n⊢ p", None),
    ("p q : Prop\nh : p → q\n⊢ p", "apply h", None, "could not unify"),
    ("p q : Prop\nh : p → q\nhp : p\n⊢ q", "exact h hp", NO_GOALS, None),
    ("p q : Prop\nh : p → q\n⊢ q", "exact h", None, "type mismatch"),
    ("p : Prop\n⊢ p", "exact nope", None, "unknown identifier 'nope'"),
    ("p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q", "exact ⟨hp, hq⟩", NO_GOALS, None),
    ("p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q ∧ p", "exact ⟨hp, hq, hp⟩", NO_GOALS, None),
    ("p q : Prop\nhp : p\n⊢ p ∨ q", "exact ⟨hp, hp⟩", None, "conjunction"),
    ("p q : Prop\n⊢ p ∧ q", "constructor", "p q : Prop\n⊢ p\n\np q : Prop\n⊢ q", None),
    ("⊢ True", "constructor", NO_GOALS, None),
    ("p q : Prop\n⊢ p ∨ q", "constructor", None, "constructor"),
    ("p q : Prop\n⊢ p ∨ q", "left", "p q : Prop\n⊢ p", None),
    ("p q : Prop\n⊢ p ∨ q", "right", "p q : Prop\n⊢ q", None),
    ("p q : Prop\n⊢ p ∧ q", "left", None, "not a disjunction"),
    ("p q r : Prop\nh : p ∧ q\n⊢ r", "rcases h with ⟨hp, hq⟩", "p q r : Prop\nhp : p\nhq : q\n⊢ r", None),
    ("p q r : Prop\nh : p ∨ q\n⊢ r", "rcases h with hp | hq",
     "p q r : Prop\nhp : p\n⊢ r\n\np q r : Prop\nhq : q\n⊢ r", None),
    ("p q r : Prop\nh : p ∧ q ∧ r\n⊢ r", "rcases h with ⟨a, b, c⟩",
     "p q r : Prop\na : p\nb : q\nc : r\n⊢ r", None),
    ("p q r : Prop\nh : p ∨ q\n⊢ r", "rcases h with ⟨hp, hq⟩", None, "does not split"),
    ("p q : Prop\nh : p → q\n⊢ q", "rcases h", None, "expected `rcases h with"),
    ("p q : Prop\nhq : q\nhp : p\n⊢ p", "assumption", NO_GOALS, None),
    ("p q : Prop\nhq : q\n⊢ p", "assumption", None, "'assumption' failed"),
    ("p : Prop\n⊢ p", "exfalso", "p : Prop\n⊢ False", None),
    ("p q : Prop\nhp : p\nhq : q\n⊢ p ∧ True ∧ q", "trivial", NO_GOALS, None),
    ("p q : Prop\nhp : p\n⊢ p ∨ q", "trivial", None, "'trivial' failed"),
    ("p : Prop\nh : ¬p\nhp : p\n⊢ False", "apply h", "p : Prop\nh : ¬p\nhp : p\n⊢ p", None),
    ("p : Prop\nh : ¬p\nhp : p\n⊢ False", "exact h hp", NO_GOALS, None),
    ("p : Prop\n⊢ ¬p", "intro hp", "p : Prop\nhp : p\n⊢ False", None),
    ("p : Prop\nh : p\n⊢ p → p", "intro h", "p : Prop\nh✝ h : p\n⊢ p", None),
    ("p : Prop\nh : p\n⊢ p → p", "intro p", None, "is a proposition"),
    ("p : Prop\nh : p\n⊢ p", "constructor h", None, "unexpected arguments"),
    ("p : Prop\nh : p\n⊢ p", "simp", None, "unknown tactic 'simp'"),
]


@pytest.mark.parametrize("statement, tactic, after, error", CASES)
def test_tactic_table(statement, tactic, after, error):
    result = run(statement, tactic)
    if after is None:
        assert not result.ok and result.state is None
        assert error in result.error
    else:
        assert result.ok, result.error
        assert result.state.text == after
        assert result.proved == (after == NO_GOALS)


def test_kernel_accepts_a_full_proof_and_rejects_a_wrong_step_at_each_point():
    state = ENV.start("p q r : Prop\nh : p ∨ q\nf : p → r\ng : q → r\n⊢ r ∧ True")
    steps = [("left", "constructor"), ("exact h", "rcases h with hp | hq"), ("exact hq", "apply f"),
             ("exact hq", "exact hp"), ("exact g hp", "exact g hq"), ("exact f", "trivial")]  # fmt: skip
    for wrong, right in steps:
        assert ENV.apply(state, wrong).error, wrong
        result = ENV.apply(state, right)
        assert result.ok, (right, result.error)
        state = result.state
    assert state.is_done and state.text == NO_GOALS


def test_goal_index_selects_a_goal_and_the_others_stay():
    state = ENV.apply(ENV.start("p q : Prop\nhq : q\n⊢ p ∧ q"), "constructor").state
    second = ENV.apply(state, "exact hq", goal=1)
    assert second.ok and second.state.text == "p q : Prop\nhq : q\n⊢ p"
    assert "no goal 2" in ENV.apply(state, "exact hq", goal=2).error
    done = ENV.apply(ENV.start("p : Prop\nh : p\n⊢ p"), "exact h").state
    assert "no goals" in ENV.apply(done, "exact h").error


@pytest.mark.parametrize(
    "tactic",
    ["", "   ", "apply", "exact", "exact ⟨", "exact (h", "exact h)", "exact ⟨h,⟩", "rcases h with",
     "rcases nope with a | b", "rcases h with ⟨a⟩", "intro 1x", "intro h✝", "apply h h h", "exact ((((",
     "⊢", "::", "exact h → h", "intro h\nintro", "left right", "exact " + "(" * 5000 + "h" + ")" * 5000],
)  # fmt: skip
def test_malformed_tactics_are_errors_not_exceptions(tactic):
    result = run("p q : Prop\nh : p ∧ q\n⊢ p → p", tactic)
    assert not result.ok and result.error


def test_env_satisfies_the_protocol():
    assert isinstance(ENV, ProofEnv)
    with pytest.raises(ValueError):
        StepResult()
    with pytest.raises(ValueError):
        ENV.start("p →")


# ---------------------------------------------------------------- parsing and printing


@pytest.mark.parametrize(
    "text, formula",
    [
        ("p → q → r", Imp(Atom("p"), Imp(Atom("q"), Atom("r")))),
        ("(p → q) → r", Imp(Imp(Atom("p"), Atom("q")), Atom("r"))),
        ("p ∧ q ∨ r", Or(And(Atom("p"), Atom("q")), Atom("r"))),
        ("p ∧ (q ∨ r)", And(Atom("p"), Or(Atom("q"), Atom("r")))),
        ("¬p ∧ q", And(neg(Atom("p")), Atom("q"))),
        ("¬(p ∧ q)", neg(And(Atom("p"), Atom("q")))),
        ("¬¬p", neg(neg(Atom("p")))),
        ("True ∨ ¬False", Or(TRUE, neg(FALSE))),
    ],
)
def test_parser_follows_lean_precedence(text, formula):
    assert parse_formula(text) == formula
    assert str(formula) == text


def test_ascii_input_and_negation_as_implication_to_false():
    assert parse_formula("p -> q /\\ r \\/ s") == parse_formula("p → q ∧ r ∨ s")
    assert str(parse_formula("p → False")) == "¬p"


def _random_formula(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.25:
        return rng.choice([Atom("p"), Atom("q"), Atom("r1"), TRUE, FALSE])
    kind = rng.choice([Imp, And, Or, neg])
    if kind is neg:
        return neg(_random_formula(rng, depth - 1))
    return kind(_random_formula(rng, depth - 1), _random_formula(rng, depth - 1))


def test_print_then_parse_is_the_identity_on_formulas_goals_and_states():
    rng = random.Random(0)
    for _ in range(300):
        formula = _random_formula(rng, 5)
        assert parse_formula(str(formula)) == formula
    statement = "a b c : Prop\nh1 h2 : a → b\nh3 : ¬(a ∧ b) ∨ c\n⊢ (a → b) → c"
    goal = parse_goal(statement)
    assert str(goal) == statement and parse_goal(str(goal)) == goal
    state = ENV.apply(ENV.start("p q : Prop\n⊢ p ∧ q"), "constructor").state
    assert parse_state(state.text) == state
    assert parse_state(NO_GOALS).is_done


def test_goal_parser_declares_undeclared_atoms_and_joins_wrapped_lines():
    goal = parse_goal("h : p →\n    q\n⊢ q")
    assert goal.variables == ("p", "q") and str(goal) == "p q : Prop\nh : p → q\n⊢ q"
    assert parse_goal("p ∨ q → q ∨ p").hyps == ()
    for bad in ["h : p\n⊢ p\n⊢ p", "h p\n⊢ p", "⊢ p ∧"]:
        with pytest.raises(ValueError):
            parse_goal(bad)
