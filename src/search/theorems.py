"""Provable propositional theorems with recorded proofs of a chosen length, and their training pairs.

A theorem is built backwards from its proof: a random derivation of exactly `length` tactic steps
is drawn from a small grammar of proof rules (intro, apply, constructor, left/right, ∧- and
∨-elimination with rcases, ¬-introduction), whose leaves close goals with `exact` (`trivial` for
True). Each rule invents *fresh* atoms and the one hypothesis that needs them, so there is no
shortcut: the recorded proof is as short as any proof in the atomic vocabulary of
`candidate_tactics` (the tests confirm it by breadth-first search). Rules that bring a local
hypothesis into scope (intro, rcases) make the first leaf below use it, so that step cannot be
skipped either. Every proof is replayed through the kernel before a theorem is returned.
"""
from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from src.search.env import ProofState
from src.search.propositional import (
    FALSE,
    TRUE,
    And,
    Atom,
    Formula,
    Goal,
    Imp,
    Or,
    PropositionalEnv,
    candidate_tactics,
    atoms,
    neg,
    parse_goal,
)


@dataclass(frozen=True)
class Theorem:
    name: str
    statement: str  # the initial goal, as `PropositionalEnv` prints it
    proof: tuple[str, ...]  # a kernel-checked tactic script, shortest in the atomic vocabulary

    @property
    def length(self) -> int:
        return len(self.proof)

    def to_lean(self) -> str:
        """The statement as a Lean 4 theorem header (no imports needed), ending in `:= by`."""
        goal = parse_goal(self.statement)
        binders = [f"({' '.join(goal.variables)} : Prop)"] if goal.variables else []
        binders += [f"({name} : {formula})" for name, formula in goal.hyps]
        return f"theorem {self.name} {' '.join(binders)} : {goal.target} := by"


# ---------------------------------------------------------------- the generator

_ATOM_NAMES = [c for c in string.ascii_lowercase if c not in "hilovxy"]  # h… names hypotheses
_RULE_WEIGHTS = {"intro": 2.0, "apply": 3.0, "constructor": 1.5, "choose": 1.0,
                 "and_elim": 1.0, "or_elim": 1.0, "not_intro": 1.0}  # fmt: skip
_HYP = "§"  # placeholder for a theorem hypothesis in recorded steps, renamed at the end

Local = tuple[str, Formula]  # a hypothesis in scope that the next leaf must use


def _compose(rng: random.Random, total: int, parts: int, min_first: int = 1) -> list[int]:
    """A random composition of `total` into `parts` positive sizes, the first at least `min_first`."""
    spare = total - min_first - (parts - 1)
    cuts = sorted(rng.randint(0, spare) for _ in range(parts - 1))
    extras = [b - a for a, b in zip([0] + cuts, cuts + [spare])]
    return [min_first + extras[0]] + [1 + e for e in extras[1:]]


class _Derivation:
    """Draws a proof of exactly n steps, inventing the atoms and hypotheses it needs."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.hyps: list[Formula] = []
        self.unused_names = rng.sample(_ATOM_NAMES, len(_ATOM_NAMES))
        self.atom_count = 0

    def atom(self) -> Atom:
        self.atom_count += 1
        return Atom(self.unused_names.pop() if self.unused_names else f"p{self.atom_count}")

    def hyp(self, formula: Formula) -> str:
        self.hyps.append(formula)
        return f"{_HYP}{len(self.hyps) - 1}"

    def prove(self, n: int, must_use: Local | None = None) -> tuple[Formula, list[str]]:
        """A target formula and its n-step proof; the first leaf uses `must_use` if given."""
        if n == 1:
            return self.leaf(must_use)
        allowed = {
            "intro": True,
            "apply": not must_use or n >= 3,
            "constructor": n >= 5,
            "choose": True,
            "and_elim": not must_use,
            "or_elim": not must_use and n >= 5,
            "not_intro": not must_use and n >= 4,
        }
        rules = [rule for rule, ok in allowed.items() if ok]
        rule = self.rng.choices(rules, weights=[_RULE_WEIGHTS[r] for r in rules])[0]
        return getattr(self, rule)(n, must_use)

    def leaf(self, must_use: Local | None):
        if must_use:
            name, formula = must_use
            return formula, [f"exact {name}"]
        if self.rng.random() < 0.1:
            return TRUE, ["trivial"]
        a = self.atom()
        return a, [f"exact {self.hyp(a)}"]

    def intro(self, n: int, must_use: Local | None):
        a = self.atom()
        body, steps = self.prove(n - 1, must_use or (f"h{a.name}", a))
        return Imp(a, body), [f"intro h{a.name}"] + steps

    def apply(self, n: int, must_use: Local | None, conclusion: Formula | None = None):
        # With a local to use and a single premise, that premise must not be the local itself:
        # the hypothesis `a → t` would close the goal `a → t` left before `intro ha` in one step.
        premises = 2 if n >= 3 and self.rng.random() < 0.35 else 1
        sizes = _compose(self.rng, n - 1, premises, min_first=2 if must_use and premises == 1 else 1)
        formulas, steps = [], []
        for i, size in enumerate(sizes):
            formula, sub_steps = self.prove(size, must_use if i == 0 else None)
            formulas.append(formula)
            steps += sub_steps
        conclusion = conclusion or self.atom()
        rule = conclusion
        for formula in reversed(formulas):
            rule = Imp(formula, rule)
        return conclusion, [f"apply {self.hyp(rule)}"] + steps

    def constructor(self, n: int, must_use: Local | None):
        # One part needs ≥ 3 steps: parts of 1 step (`exact h`) or 2 (`rcases h with ⟨ha, hb⟩;
        # exact ha`, with the rcases moved first) are assumptions that `trivial` closes together.
        n1, n2 = _compose(self.rng, n - 1, 2, min_first=3)
        if self.rng.random() < 0.5:
            n1, n2 = n2, n1
        left, left_steps = self.prove(n1, must_use)
        right, right_steps = self.prove(n2)
        return And(left, right), ["constructor"] + left_steps + right_steps

    def choose(self, n: int, must_use: Local | None):
        chosen, steps = self.prove(n - 1, must_use)
        other = self.atom()  # never provable
        if self.rng.random() < 0.5:
            return Or(chosen, other), ["left"] + steps
        return Or(other, chosen), ["right"] + steps

    def and_elim(self, n: int, must_use: Local | None):
        a, b = self.atom(), self.atom()
        h = self.hyp(And(a, b))
        use = self.rng.choice([(f"h{a.name}", a), (f"h{b.name}", b)])
        target, steps = self.prove(n - 1, use)
        return target, [f"rcases {h} with ⟨h{a.name}, h{b.name}⟩"] + steps

    def or_elim(self, n: int, must_use: Local | None):
        a, b = self.atom(), self.atom()
        h = self.hyp(Or(a, b))
        n1, n2 = _compose(self.rng, n - 3, 2)
        x1, steps1 = self.prove(n1, (f"h{a.name}", a))
        x2, steps2 = self.prove(n2, (f"h{b.name}", b))
        t = self.atom()
        f1, f2 = self.hyp(Imp(x1, t)), self.hyp(Imp(x2, t))
        cases = f"rcases {h} with h{a.name} | h{b.name}"
        return t, [cases, f"apply {f1}"] + steps1 + [f"apply {f2}"] + steps2

    def not_intro(self, n: int, must_use: Local | None):
        a = self.atom()
        _, steps = self.apply(n - 1, (f"h{a.name}", a), conclusion=FALSE)
        return neg(a), [f"intro h{a.name}"] + steps


def generate_theorem(length: int, seed: int | str, name: str = "synthetic") -> Theorem:
    """A theorem whose shortest proof (atomic tactics) has exactly `length` steps; deterministic."""
    if length < 1:
        raise ValueError(f"length must be ≥ 1, got {length}")
    rng = random.Random(f"{seed}")
    derivation = _Derivation(rng)
    target, steps = derivation.prove(length)
    order = rng.sample(range(len(derivation.hyps)), len(derivation.hyps))  # shuffle the context
    new_name = {old: f"h{position + 1}" for position, old in enumerate(order)}
    steps = [re.sub(rf"{_HYP}(\d+)", lambda m: new_name[int(m.group(1))], step) for step in steps]
    hyps = [(f"h{position + 1}", derivation.hyps[old]) for position, old in enumerate(order)]
    variables = sorted({a for _, f in hyps for a in atoms(f)} | set(atoms(target)))
    goal = Goal(tuple(variables), tuple(hyps), target)
    theorem = Theorem(name, str(goal), tuple(steps))
    replay(theorem.statement, theorem.proof)  # the kernel must accept it
    return theorem


def generate_theorems(count: int, seed: int = 0, lengths: Sequence[int] = range(1, 13)) -> list[Theorem]:
    """`count` theorems whose proof lengths cycle through `lengths`; theorem i depends only on
    (seed, i), so a prefix of a larger set is the smaller set."""
    lengths = list(lengths)
    return [
        generate_theorem(lengths[i % len(lengths)], seed=f"{seed}/{i}", name=f"synthetic_{seed}_{i}")
        for i in range(count)
    ]


# ---------------------------------------------------------------- replay, pairs, shortest proofs


def replay(statement: str, proof: Sequence[str], env: PropositionalEnv | None = None) -> list[ProofState]:
    """The states before each step and after the last; raises ValueError unless the proof is complete."""
    env = env or PropositionalEnv()
    states = [env.start(statement)]
    for step, tactic in enumerate(proof):
        result = env.apply(states[-1], tactic)
        if not result.ok:
            raise ValueError(f"step {step} `{tactic}` failed: {result.error}\nstate:\n{states[-1].text}")
        states.append(result.state)
    if not states[-1].is_done:
        raise ValueError(f"the proof ends with open goals:\n{states[-1].text}")
    return states


def shortest_proof_length(statement: str, max_depth: int = 8, max_states: int = 50_000) -> int | None:
    """Breadth-first search over `candidate_tactics`; None if no proof within `max_depth` steps
    (or the search visited `max_states` states). Cost grows fast with depth: meant for small theorems."""
    env = PropositionalEnv()
    frontier = [env.start(statement)]
    seen = set(frontier)
    for depth in range(1, max_depth + 1):
        next_frontier = []
        for state in frontier:
            for tactic in candidate_tactics(state):
                result = env.apply(state, tactic)
                if not result.ok or result.state in seen:
                    continue
                if result.proved:
                    return depth
                seen.add(result.state)
                next_frontier.append(result.state)
                if len(seen) >= max_states:
                    return None
        frontier = next_frontier
    return None
