"""What a proof search needs from a formal system: start a theorem, apply a tactic, read the goals.

Two systems implement it: the built-in propositional kernel (`search.propositional`, offline) and
Lean 4 through the REPL (`search.lean`). States print like Lean's goal view: hypotheses `h : p → q`,
the target after `⊢`, several goals separated by a blank line, and `no goals` once the proof is done.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

NO_GOALS = "no goals"  # what Lean (and LeanDojo's `state_after`) shows when a proof is complete


@runtime_checkable
class ProofState(Protocol):
    """An immutable, hashable proof state."""

    @property
    def text(self) -> str:
        """The goals as Lean prints them (`NO_GOALS` when none remain)."""
        ...

    @property
    def is_done(self) -> bool:
        """True when no goals remain, i.e. the proof is complete."""
        ...


class GoalsState:
    """A `ProofState` made of a tuple of `goals`: printed as Lean prints them, done when none remain."""

    goals: tuple

    @property
    def text(self) -> str:
        return "\n\n".join(map(str, self.goals)) if self.goals else NO_GOALS

    @property
    def is_done(self) -> bool:
        return not self.goals

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class StepResult:
    """The outcome of one tactic: the remaining goals, or an error message (never both)."""

    state: ProofState | None = None
    error: str | None = None

    def __post_init__(self):
        if (self.state is None) == (self.error is None):
            raise ValueError("a StepResult holds exactly one of `state` and `error`")

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def proved(self) -> bool:
        """The tactic closed the last goal."""
        return self.state is not None and self.state.is_done


@runtime_checkable
class ProofEnv(Protocol):
    """A formal system that checks every tactic step."""

    def start(self, statement: str) -> ProofState:
        """The initial state of a theorem. Raises ValueError on a malformed statement."""
        ...

    def apply(self, state: ProofState, tactic: str, goal: int | None = None) -> StepResult:
        """Run `tactic` on goal `goal` (None: the main goal, as Lean does). Never raises for a bad
        tactic: malformed or failing tactics come back as `StepResult(error=...)`."""
        ...
