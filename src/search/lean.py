"""Lean 4 as a `ProofEnv`, through the Lean REPL driven by `lean-interact` (optional extra `lean`).

    project = TempRequireProject(lean_version=LEAN_VERSION, require="mathlib")  # the statements' Mathlib
    env = LeanEnv(header=record.header, config=LeanREPLConfig(project=project), timeout=60)
    state = env.start(record.formal_statement)      # `theorem … := by` + `sorry` → proof state
    result = env.apply(state, "nlinarith [sq_nonneg (a - b)]")

A statement is compiled once with `sorry` as its proof; the REPL hands back the sorry's proof state,
and each tactic then runs as a `ProofStep` on a state id. A step that closes every goal counts as a
proof only if Lean reports the proof `Completed` (so `sorry` or `admit` never prove anything).
The header (imports, options) is compiled once per environment and reused.

Inputs read from data files never reach the REPL unchecked (`check_header`, `check_statement`,
`check_tactic`): a header is made of the commands in `HEADER_COMMANDS` only; a statement is one
`theorem`/`lemma`/`example` declaration; and no input may contain `CODE_RUNNING` — commands and
tactics that run arbitrary code at elaboration time (`#eval`, `run_cmd`, `run_tac`, IO actions,
`unsafe`, `@[extern]`/`@[implemented_by]`, new syntax or macros).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from src.search.env import GoalsState, StepResult

INSTALL_HINT = "pip install -e .[lean] and a Lean toolchain (elan; lean-interact's `install-lean`)"


def _lean_interact():
    try:
        import lean_interact
    except ImportError as error:
        raise ImportError(f"the Lean backend needs lean-interact: {INSTALL_HINT}") from error
    return lean_interact


@dataclass(frozen=True)
class LeanState(GoalsState):
    goals: tuple[str, ...]  # pretty-printed goals, as the REPL returns them
    proof_state: int = field(compare=False)  # the REPL's handle for this state


HEADER_COMMANDS = ("import", "open", "set_option", "namespace", "section", "noncomputable section", "end",
                   "universe", "variable")
DECLARATIONS = ("theorem", "lemma", "example")
CODE_RUNNING = re.compile(
    r"#(eval|exec|print|reduce|check|synth|run\w*|command)\b"
    r"|\b(run_cmd|run_elab|run_meta|run_tac|by_elab|unsafe|initialize|builtin_initialize|extern|implemented_by"
    r"|macro|macro_rules|elab|elab_rules|syntax|declare_syntax_cat|notation|infix[lr]?|prefix|postfix)\b"
    r"|\bIO\b|\bIO\.")


def _refuse_code(kind: str, text: str) -> None:
    found = CODE_RUNNING.search(text)
    if found:
        raise ValueError(f"Lean {kind} refused: it contains {found.group(0)!r}, which can run code "
                         f"(src/search/lean.py, CODE_RUNNING): {text.strip()[:80]!r}")


def check_header(header: str) -> str:
    """A header of allowed commands (HEADER_COMMANDS), one per line; comments and blank lines allowed."""
    for line in header.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--") and not stripped.startswith(HEADER_COMMANDS):
            raise ValueError(f"Lean header refused: {stripped[:80]!r} is not one of {list(HEADER_COMMANDS)}")
    _refuse_code("header", header)
    return header


def check_statement(statement: str) -> str:
    """One `theorem`/`lemma`/`example` declaration (after an optional doc comment), no code-running input."""
    code = re.sub(r"^\s*/--.*?-/", "", statement, flags=re.S).lstrip()
    if not code.startswith(DECLARATIONS):
        raise ValueError(f"Lean statement refused: it must start with one of {list(DECLARATIONS)}, "
                         f"got {code[:60]!r}")
    _refuse_code("statement", statement)
    return statement


def check_tactic(tactic: str) -> str:
    _refuse_code("tactic", tactic)
    return tactic


def with_sorry(statement: str) -> str:
    """`theorem … := by` (MiniF2F's `formal_statement`) or `theorem … :=`, completed by `sorry`."""
    code = statement.rstrip()
    if code.endswith(":= by"):
        return code + "\n  sorry"
    if code.endswith(":="):
        return code + " by\n  sorry"
    raise ValueError(f"a statement must end with ':= by' or ':=', got …{code[-40:]!r}")


def _errors(response) -> str | None:
    """The error text of a REPL answer, or None. A `LeanError` has a `message` and no `messages`."""
    if not hasattr(response, "messages"):
        return getattr(response, "message", None) or f"Lean REPL error: {response!r}"
    errors = [m.data for m in response.messages if m.severity == "error"]
    return "\n".join(errors) if errors else None


class LeanEnv:
    """`ProofEnv` backed by one Lean REPL process."""

    def __init__(self, header: str = "", config=None, server=None, timeout: float | None = None):
        """`config`: a `LeanREPLConfig` (default: plain Lean, no Mathlib; the first one downloads
        and builds the REPL). `server`: an already running `LeanServer`. `timeout`: seconds per step."""
        lean_interact = _lean_interact()
        self.Command, self.ProofStep = lean_interact.Command, lean_interact.ProofStep
        self.server = server or lean_interact.LeanServer(config or lean_interact.LeanREPLConfig())
        self.header = check_header(header)
        self.step_options = {"timeout": timeout} if timeout is not None else {}
        self._header_env: int | None = None

    def _environment(self) -> int | None:
        """The REPL environment after the header (None: a fresh one)."""
        if not self.header.strip():
            return None
        if self._header_env is None:
            response = self.server.run(self.Command(cmd=self.header))
            error = _errors(response)
            if error:
                raise RuntimeError(f"the Lean header failed to compile:\n{error}")
            self._header_env = response.env
        return self._header_env

    def start(self, statement: str) -> LeanState:
        response = self.server.run(self.Command(cmd=with_sorry(check_statement(statement)), env=self._environment()))
        error = _errors(response)
        if error or len(response.sorries) != 1:
            reason = error or f"expected one `sorry`, found {len(response.sorries)}"
            raise ValueError(f"cannot start {statement.strip()[:80]!r}: {reason}")
        sorry = response.sorries[0]
        return LeanState((sorry.goal,), sorry.proof_state)

    def apply(self, state: LeanState, tactic: str, goal: int | None = None) -> StepResult:
        if state.is_done:
            return StepResult(error="no goals to be proved")
        try:
            check_tactic(tactic)
        except ValueError as refused:  # a sampled tactic that could run code fails this step only
            return StepResult(error=str(refused))
        if goal:  # `on_goal` comes with Batteries/Mathlib
            tactic = f"on_goal {goal + 1} => {tactic}"
        try:
            step = self.ProofStep(proof_state=state.proof_state, tactic=tactic)
            response = self.server.run(step, **self.step_options)
        except Exception as error:  # a crashed or timed-out REPL fails this step, not the search
            return StepResult(error=f"Lean REPL failure: {type(error).__name__}: {error}")
        error = _errors(response)
        if error:
            return StepResult(error=error)
        after = LeanState(tuple(response.goals), response.proof_state)
        status = getattr(response, "proof_status", "Completed")
        if after.is_done and not status.startswith("Completed"):
            return StepResult(error=f"the proof is not accepted: {status}")
        return StepResult(state=after)


def repl_config(mathlib: bool = False, lean_version: str | None = None):
    """A `LeanREPLConfig`: plain Lean (optionally a given version), or a temporary project that
    requires Mathlib at that Lean version (MiniF2F's header imports Mathlib)."""
    lean_interact = _lean_interact()
    if not mathlib:
        return lean_interact.LeanREPLConfig(**({"lean_version": lean_version} if lean_version else {}))
    if not lean_version:
        raise ValueError("a Mathlib project needs evaluation.lean.lean_version (e.g. the Lean version "
                         "of the Mathlib the statements were written for)")
    project = lean_interact.TempRequireProject(lean_version=lean_version, require="mathlib")
    return lean_interact.LeanREPLConfig(project=project)
