"""Intuitionistic propositional logic with Lean 4 syntax: a tiny, fully offline proof kernel.

Formulas: atoms `p q r …`, `True`, `False`, `A → B`, `A ∧ B`, `A ∨ B`, and `¬A`, which *is* `A → False`
(so `p → False` prints as `¬p`). Precedences follow Lean: ¬ > ∧ > ∨ > →, binary connectives
associate to the right. ASCII `->`, `/\\`, `\\/` are accepted on input.

A goal prints as Lean shows it:

    p q r : Prop
    h1 : p → q
    h2 : q → r
    ⊢ p → r

Tactics (Lean 4 syntax, acting on one goal; every step is checked, failures are error results):

    intro h₁ h₂ …                 target A → B: add `h₁ : A`, target B (one name per binder)
    apply t                       t : A₁ → … → Aₖ → target: new goals A₁ … Aₖ (Lean's arity rule)
    exact t                       t : target closes the goal
    constructor                   target A ∧ B: goals A, B; target True: closed
    left / right                  target A ∨ B: goal A / B
    rcases h with ⟨a, b, …⟩       h : A ∧ B ∧ …: replace h by a : A, b : B, …
    rcases h with a | b | …       h : A ∨ B ∨ …: one goal per case, with a : A, b : B, …
    assumption                    some hypothesis has the target's type
    exfalso                       target becomes False
    trivial                       True, an assumption, or a conjunction of those (as Lean's macro)

Terms `t` are hypothesis names, applications `h₁ h₂ (h₃ h₄)` and anonymous constructors `⟨t₁, t₂⟩`
for conjunctions. Deliberate simplifications: no case tags (goals are separated by a blank line),
`intro` needs explicit names, a hypothesis may not shadow a proposition variable.

`candidate_tactics(state)` lists the atomic tactics worth trying in a state: the vocabulary of
breadth-first search (`theorems.shortest_proof_length`) and of the model-free `VocabularyPolicy`.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from src.search.env import NO_GOALS, GoalsState, StepResult

# ---------------------------------------------------------------- formulas


class _Printed:
    def __str__(self) -> str:
        return _show(self, 0)


@dataclass(frozen=True)
class Atom(_Printed):
    name: str  # `True` and `False` are atoms too


@dataclass(frozen=True)
class Imp(_Printed):
    left: "Formula"
    right: "Formula"


@dataclass(frozen=True)
class And(_Printed):
    left: "Formula"
    right: "Formula"


@dataclass(frozen=True)
class Or(_Printed):
    left: "Formula"
    right: "Formula"


Formula = Atom | Imp | And | Or
TRUE, FALSE = Atom("True"), Atom("False")


def neg(a: Formula) -> Formula:
    return Imp(a, FALSE)


_BINARY = {Imp: ("→", 25), Or: ("∨", 30), And: ("∧", 35)}
_NOT_ARGUMENT_PREC, _MAX_PREC = 40, 1024


def _show(f: Formula, min_prec: int) -> str:
    """Print with the fewest parentheses Lean would use; `min_prec` is what the context demands."""
    if isinstance(f, Atom):
        return f.name
    if isinstance(f, Imp) and f.right == FALSE:
        text, prec = "¬" + _show(f.left, _NOT_ARGUMENT_PREC), _MAX_PREC
    else:
        symbol, prec = _BINARY[type(f)]
        text = f"{_show(f.left, prec + 1)} {symbol} {_show(f.right, prec)}"
    return f"({text})" if prec < min_prec else text


def atoms(f: Formula) -> list[str]:
    """Proposition variables in order of first appearance (True/False excluded)."""
    if isinstance(f, Atom):
        return [] if f in (TRUE, FALSE) else [f.name]
    return list(dict.fromkeys(atoms(f.left) + atoms(f.right)))


# ---------------------------------------------------------------- tokens and parsing

_ASCII = {"->": "→", "/\\": "∧", "\\/": "∨"}
_TOKEN = re.compile(r"\s*(->|/\\|\\/|[→∧∨¬()⟨⟩,|]|[^\s→∧∨¬()⟨⟩,|]+)")
_NAME = re.compile(r"[^\W\d][\w'!?✝]*")


def _tokenize(text: str) -> list[str]:
    tokens, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected character {text[pos]!r} in {text!r}")
        tokens.append(_ASCII.get(match.group(1), match.group(1)))
        pos = match.end()
    return tokens


class _Tokens:
    def __init__(self, text: str):
        self.text, self.items, self.pos = text, _tokenize(text), 0

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            wanted = repr(expected) if expected else "more input"
            raise ValueError(f"expected {wanted}, found {token!r} in {self.text!r}")
        self.pos += 1
        return token

    def name(self) -> str:
        token = self.take()
        if not _NAME.fullmatch(token):
            raise ValueError(f"expected a name, found {token!r} in {self.text!r}")
        return token

    def finish(self):
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r} in {self.text!r}")


def _formula(t: _Tokens) -> Formula:
    """imp := or ('→' imp)? ; or := and ('∨' or)? ; and := unary ('∧' and)?"""

    def binary(cls, symbol, operand):
        def parse():
            left = operand()
            if t.peek() == symbol:
                t.take()
                return cls(left, parse())
            return left

        return parse

    def unary() -> Formula:
        token = t.peek()
        if token == "¬":
            t.take()
            return neg(unary())
        if token == "(":
            t.take()
            inner = imp()
            t.take(")")
            return inner
        return Atom(t.name())

    imp = binary(Imp, "→", binary(Or, "∨", binary(And, "∧", unary)))
    return imp()


def parse_formula(text: str) -> Formula:
    t = _Tokens(text)
    f = _formula(t)
    t.finish()
    return f


# ---------------------------------------------------------------- goals and states


@dataclass(frozen=True)
class Goal:
    """Proposition variables, named hypotheses (later ones shadow earlier ones) and a target."""

    variables: tuple[str, ...]
    hyps: tuple[tuple[str, Formula], ...]
    target: Formula

    def lookup(self, name: str) -> Formula | None:
        for hyp_name, formula in reversed(self.hyps):
            if hyp_name == name and "✝" not in name:
                return formula
        return None

    def with_hyp(self, name: str, formula: Formula) -> Goal:
        """Add `name : formula`; an older hypothesis of that name becomes inaccessible (`name✝`)."""
        if not _NAME.fullmatch(name) or "✝" in name:
            raise ValueError(f"invalid hypothesis name {name!r}")
        if name in self.variables or Atom(name) in (TRUE, FALSE):
            raise ValueError(f"cannot name a hypothesis {name!r}: it is a proposition")
        hyps = tuple((n + "✝" if n == name else n, f) for n, f in self.hyps)
        return Goal(self.variables, hyps + ((name, formula),), self.target)

    def with_target(self, target: Formula) -> Goal:
        return Goal(self.variables, self.hyps, target)

    def __str__(self) -> str:
        lines = [f"{' '.join(self.variables)} : Prop"] if self.variables else []
        for names, formula in _group_consecutive(self.hyps):
            lines.append(f"{' '.join(names)} : {formula}")
        return "\n".join(lines + [f"⊢ {self.target}"])


def _group_consecutive(hyps):
    """Lean prints consecutive hypotheses of the same type on one line: `h1 h2 : p`."""
    groups: list[tuple[list[str], Formula]] = []
    for name, formula in hyps:
        if groups and groups[-1][1] == formula:
            groups[-1][0].append(name)
        else:
            groups.append(([name], formula))
    return groups


def parse_goal(text: str) -> Goal:
    """Parse a goal as `Goal.__str__` prints it, or a bare formula (no `⊢`) with no hypotheses.

    Lines that start with whitespace continue the previous line (Lean wraps long types). Atoms
    not declared on a `… : Prop` line are declared after the declared ones, in order of appearance.
    """
    if "⊢" not in text:
        target = parse_formula(text)
        return Goal(tuple(atoms(target)), (), target)
    lines: list[str] = []
    for line in text.strip("\n").split("\n"):
        if line[:1].isspace() and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line.strip())
    if not lines[-1].startswith("⊢") or sum(line.startswith("⊢") for line in lines) != 1:
        raise ValueError(f"a goal has exactly one `⊢ target` line, last: {text!r}")
    variables: list[str] = []
    hyps: list[tuple[str, Formula]] = []
    for line in lines[:-1]:
        names, colon, type_text = line.partition(" : ")
        if not colon or not names.split():
            raise ValueError(f"expected `names : type`, found {line!r}")
        if type_text.strip() == "Prop":
            variables += names.split()
        else:
            formula = parse_formula(type_text)
            hyps += [(name, formula) for name in names.split()]
    target = parse_formula(lines[-1][1:])
    mentioned = [a for f in [f for _, f in hyps] + [target] for a in atoms(f)]
    variables += [a for a in dict.fromkeys(mentioned) if a not in variables]
    for name in [n for n, _ in hyps]:
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid hypothesis name {name!r}")
    return Goal(tuple(variables), tuple(hyps), target)


@dataclass(frozen=True)
class PropState(GoalsState):
    """The open goals; tactics act on the first one unless told otherwise."""

    goals: tuple[Goal, ...]


def parse_state(text: str) -> PropState:
    """Inverse of `PropState.text`: goals separated by blank lines, or `no goals`."""
    if text.strip() == NO_GOALS:
        return PropState(())
    return PropState(tuple(parse_goal(block) for block in text.strip("\n").split("\n\n")))


# ---------------------------------------------------------------- terms: h, h₁ h₂, ⟨t₁, t₂⟩


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _App:
    fn: "_Term"
    arg: "_Term"


@dataclass(frozen=True)
class _Anonymous:
    parts: tuple["_Term", ...]


_Term = _Var | _App | _Anonymous


def parse_term(text: str) -> _Term:
    t = _Tokens(text)

    def argument() -> _Term:
        if t.peek() == "(":
            t.take()
            inner = application()
            t.take(")")
            return inner
        if t.peek() == "⟨":
            t.take()
            parts = [application()]
            while t.peek() == ",":
                t.take()
                parts.append(application())
            t.take("⟩")
            return _Anonymous(tuple(parts))
        return _Var(t.name())

    def application() -> _Term:
        term = argument()
        while t.peek() not in (None, ")", ",", "⟩"):
            term = _App(term, argument())
        return term

    term = application()
    t.finish()
    return term


def _infer(term: _Term, goal: Goal) -> Formula:
    if isinstance(term, _Var):
        formula = goal.lookup(term.name)
        if formula is None:
            raise ValueError(f"unknown identifier '{term.name}'")
        return formula
    if isinstance(term, _App):
        fn_type = _infer(term.fn, goal)
        if not isinstance(fn_type, Imp):
            raise ValueError(f"function expected, but it has type {fn_type}")
        _check(term.arg, fn_type.left, goal)
        return fn_type.right
    raise ValueError("invalid constructor ⟨...⟩, the expected type must be known")


def _check(term: _Term, expected: Formula, goal: Goal) -> None:
    if isinstance(term, _Anonymous):
        first, rest = term.parts[0], term.parts[1:]
        if not rest:
            return _check(first, expected, goal)
        if not isinstance(expected, And):
            raise ValueError(f"invalid constructor ⟨...⟩, expected type must be a conjunction, not {expected}")
        _check(first, expected.left, goal)
        return _check(_Anonymous(rest), expected.right, goal)
    actual = _infer(term, goal)
    if actual != expected:
        raise ValueError(f"type mismatch: term has type {actual} but is expected to have type {expected}")


# ---------------------------------------------------------------- tactics


def _arrows(f: Formula) -> tuple[list[Formula], Formula]:
    premises = []
    while isinstance(f, Imp):
        premises.append(f.left)
        f = f.right
    return premises, f


def _intro(goal: Goal, args: str) -> list[Goal]:
    names = args.split()
    if not names:
        raise ValueError("intro: give a name for each hypothesis (`intro h`)")
    for name in names:
        if not isinstance(goal.target, Imp):
            raise ValueError("tactic 'introN' failed, insufficient number of binders")
        goal = goal.with_hyp(name, goal.target.left).with_target(goal.target.right)
    return [goal]


def _apply(goal: Goal, args: str) -> list[Goal]:
    """Lean's rule: try to use the fewest premises first, from (#arrows of t − #arrows of target)."""
    premises, conclusion = _arrows(_infer(parse_term(args), goal))
    target_arity = len(_arrows(goal.target)[0])
    for used in range(max(0, len(premises) - target_arity), len(premises) + 1):
        result = conclusion
        for premise in reversed(premises[used:]):
            result = Imp(premise, result)
        if result == goal.target:
            return [goal.with_target(p) for p in premises[:used]]
    raise ValueError(f"tactic 'apply' failed, could not unify the conclusion of `{args}` with the goal")


def _exact(goal: Goal, args: str) -> list[Goal]:
    _check(parse_term(args), goal.target, goal)
    return []


def _no_arguments(tactic):
    def run(goal: Goal, args: str) -> list[Goal]:
        if args.strip():
            raise ValueError(f"unexpected arguments {args.strip()!r}")
        return tactic(goal)

    return run


def _constructor(goal: Goal) -> list[Goal]:
    if goal.target == TRUE:
        return []
    if isinstance(goal.target, And):
        return [goal.with_target(goal.target.left), goal.with_target(goal.target.right)]
    raise ValueError(f"tactic 'constructor' failed, no applicable constructor for {goal.target}")


def _choose(side: str):
    def run(goal: Goal) -> list[Goal]:
        if not isinstance(goal.target, Or):
            raise ValueError(f"tactic '{side}' failed, target is not a disjunction")
        return [goal.with_target(getattr(goal.target, side))]

    return run


def _assumption(goal: Goal) -> list[Goal]:
    if goal.target in (f for _, f in goal.hyps):  # inaccessible (shadowed) hypotheses count too
        return []
    raise ValueError("tactic 'assumption' failed")


def _exfalso(goal: Goal) -> list[Goal]:
    return [goal.with_target(FALSE)]


def _trivially_true(goal: Goal, f: Formula) -> bool:
    if f == TRUE or f in (h for _, h in goal.hyps):
        return True
    return isinstance(f, And) and _trivially_true(goal, f.left) and _trivially_true(goal, f.right)


def _trivial(goal: Goal) -> list[Goal]:
    if _trivially_true(goal, goal.target):
        return []
    raise ValueError("tactic 'trivial' failed")


_RCASES = re.compile(r"(\S+)\s+with\s+(.+)", re.DOTALL)


def _rcases(goal: Goal, args: str) -> list[Goal]:
    match = _RCASES.fullmatch(args.strip())
    if match is None:
        raise ValueError("expected `rcases h with ⟨a, b⟩` or `rcases h with a | b`")
    hyp, pattern = match.group(1), match.group(2).strip()
    formula = goal.lookup(hyp)
    if formula is None:
        raise ValueError(f"unknown identifier '{hyp}'")
    if pattern.startswith("⟨") and pattern.endswith("⟩"):
        connective, names = And, [n.strip() for n in pattern[1:-1].split(",")]
    else:
        connective, names = Or, [n.strip() for n in pattern.split("|")]
    if len(names) < 2:
        raise ValueError(f"rcases pattern {pattern!r} names fewer than two parts")
    parts = []
    for _ in names[:-1]:
        if not isinstance(formula, connective):
            raise ValueError(f"rcases: {hyp} does not split into {len(names)} parts with pattern {pattern!r}")
        parts.append(formula.left)
        formula = formula.right
    parts.append(formula)
    kept = tuple((n, f) for n, f in goal.hyps if n != hyp)  # rcases clears the hypothesis
    cleared = Goal(goal.variables, kept, goal.target)
    if connective is And:
        for name, part in zip(names, parts):
            cleared = cleared.with_hyp(name, part)
        return [cleared]
    return [cleared.with_hyp(name, part) for name, part in zip(names, parts)]


TACTICS = {
    "intro": _intro,
    "apply": _apply,
    "exact": _exact,
    "rcases": _rcases,
    "constructor": _no_arguments(_constructor),
    "left": _no_arguments(_choose("left")),
    "right": _no_arguments(_choose("right")),
    "assumption": _no_arguments(_assumption),
    "exfalso": _no_arguments(_exfalso),
    "trivial": _no_arguments(_trivial),
}


def run_tactic(goal: Goal, tactic: str) -> list[Goal]:
    """The goals that replace `goal`; raises ValueError with a Lean-like message on failure."""
    name, _, args = tactic.strip().partition(" ")
    if name not in TACTICS:
        raise ValueError(f"unknown tactic {name!r}; known: {', '.join(TACTICS)}")
    return TACTICS[name](goal, args)


class PropositionalEnv:
    """`ProofEnv` for the built-in logic. Statements are goals in printed form or bare formulas."""

    def start(self, statement: str) -> PropState:
        return PropState((parse_goal(statement),))

    def apply(self, state: PropState, tactic: str, goal: int | None = None) -> StepResult:
        index = 0 if goal is None else goal
        if not state.goals:
            return StepResult(error="no goals to be proved")
        if not 0 <= index < len(state.goals):
            return StepResult(error=f"no goal {index}: the state has {len(state.goals)} goals")
        try:
            new_goals = run_tactic(state.goals[index], tactic)
        except (ValueError, RecursionError) as error:
            return StepResult(error=str(error) or type(error).__name__)
        goals = state.goals[:index] + tuple(new_goals) + state.goals[index + 1 :]
        return StepResult(state=PropState(goals))


# ---------------------------------------------------------------- the atomic vocabulary


def candidate_tactics(state: PropState) -> list[str]:
    """The atomic vocabulary for the main goal: no-argument tactics, one fresh `intro`, and
    `exact`/`apply`/`rcases` on each accessible hypothesis (compound terms are not enumerated)."""
    if state.is_done:
        return []
    goal = state.goals[0]
    taken = set(goal.variables) | {name for name, _ in goal.hyps}
    fresh = (f"x{i}" for i in range(len(taken) + 3) if f"x{i}" not in taken)
    x, y = next(fresh), next(fresh)
    tactics = [f"intro {x}", "constructor", "left", "right", "assumption", "exfalso", "trivial"]
    for name, formula in goal.hyps:
        if "✝" in name:
            continue
        tactics += [f"exact {name}", f"apply {name}"]
        if isinstance(formula, And):
            tactics.append(f"rcases {name} with ⟨{x}, {y}⟩")
        if isinstance(formula, Or):
            tactics.append(f"rcases {name} with {x} | {y}")
    return tactics


@dataclass
class VocabularyPolicy:
    """A model-free `TacticPolicy`: k tactics drawn uniformly (with replacement) from
    `candidate_tactics` of the main goal. A baseline, and a way to run searches without a model."""

    seed: int = 0

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def sample(self, states: list[str], k: int) -> list[list[tuple[str, float]]]:
        samples = []
        for text in states:
            vocabulary = candidate_tactics(parse_state(text))
            logprob = -math.log(len(vocabulary)) if vocabulary else 0.0
            samples.append([(self.rng.choice(vocabulary), logprob) for _ in range(k)] if vocabulary else [])
        return samples
