"""Lean data readers (real staged files and broken fixtures) and the Lean 4 search backend."""
import importlib.util
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from src.data.lean import (
    TacticPair,
    format_tactic,
    read_leandojo_theorems,
    read_minif2f,
    read_tactic_pairs,
    tactic_example,
)
from src.search import lean as lean_backend
from src.search.env import NO_GOALS, ProofEnv
from src.search.lean import LeanEnv, with_sorry

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LEAN_TACTICS, MINIF2F = DATA / "lean_tactics", DATA / "minif2f"
HAS_LEAN_INTERACT = importlib.util.find_spec("lean_interact") is not None


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"staged data not found: {path}")
    return path


# ---------------------------------------------------------------- real data


@pytest.mark.realdata
def test_leandojo_benchmark_and_flattened_pairs_agree():
    pairs = read_leandojo_theorems(need(LEAN_TACTICS / "leandojo4_random_test_sample100.json"))
    flat = read_tactic_pairs(need(LEAN_TACTICS / "leandojo4_random_test_sample100_pairs.jsonl"))
    assert len(pairs) == len(flat) == 469
    assert len({p.proof_id for p in pairs}) == 100
    assert pairs == flat
    assert sum(p.state_after == NO_GOALS for p in pairs) == 183
    first = pairs[0]
    assert first.proof_id == "BoxIntegral.Box.withBotCoe_inj" and first.step == 0 and "⊢" in first.state


@pytest.mark.realdata
def test_minif2f_statements():
    everything = read_minif2f(need(MINIF2F / "minif2f_lean4_deepseek.jsonl"))
    test = read_minif2f(need(MINIF2F / "minif2f_test.jsonl"))
    valid = read_minif2f(need(MINIF2F / "minif2f_valid.jsonl"))
    assert (len(everything), len(test), len(valid)) == (488, 244, 244)
    assert read_minif2f(MINIF2F / "minif2f_lean4_deepseek.jsonl", split="test") == test
    assert {s.split for s in test} == {"test"} and {s.split for s in valid} == {"valid"}
    assert len({s.header for s in everything}) == 1 and everything[0].header.startswith("import Mathlib")
    for statement in everything:
        assert statement.formal_statement.endswith(":= by\n") and "⊢" in statement.goal
        assert with_sorry(statement.formal_statement).endswith(":= by\n  sorry")


# ---------------------------------------------------------------- malformed files


def write_lines(path: Path, records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


PAIR = {"full_name": "t", "file_path": "F.lean", "step": 0, "state_before": "⊢ p", "tactic": "simp",
        "state_after": "no goals"}  # fmt: skip


def test_pairs_reader_names_the_line_and_the_field(tmp_path):
    path = write_lines(tmp_path / "pairs.jsonl", [PAIR, "", {k: v for k, v in PAIR.items() if k != "tactic"}])
    with pytest.raises(ValueError, match=r"pairs.jsonl:3: missing field 'tactic'"):
        read_tactic_pairs(path)
    write_lines(path, [PAIR | {"step": "0"}])
    with pytest.raises(ValueError, match=r"pairs.jsonl:1: field 'step' should be int"):
        read_tactic_pairs(path)
    write_lines(path, [PAIR, "{not json"])
    with pytest.raises(ValueError, match=r"pairs.jsonl:2: invalid JSON"):
        read_tactic_pairs(path)
    write_lines(path, [PAIR, PAIR | {"step": 1}])
    assert [p.step for p in read_tactic_pairs(path)] == [0, 1]
    assert read_tactic_pairs(path)[0] == TacticPair("⊢ p", "simp", "no goals", "t", 0)


def test_benchmark_reader_names_the_theorem_and_the_field(tmp_path):
    path = tmp_path / "test.json"
    step = {"tactic": "simp", "state_before": "⊢ p", "state_after": "no goals"}
    path.write_text(json.dumps([{"full_name": "a", "traced_tactics": [step]}, {"full_name": "b"}]))
    with pytest.raises(ValueError, match=r"theorem #1 \(b\): missing field 'traced_tactics'"):
        read_leandojo_theorems(path)
    path.write_text(json.dumps([{"full_name": "a", "traced_tactics": [step, {"tactic": "rfl"}]}]))
    with pytest.raises(ValueError, match=r"traced_tactics\[1\]: missing field 'state_before'"):
        read_leandojo_theorems(path)
    path.write_text(json.dumps({"full_name": "a"}))
    with pytest.raises(ValueError, match="expected a JSON array"):
        read_leandojo_theorems(path)
    path.write_text("[\n{")
    with pytest.raises(ValueError, match=r"test.json:2: invalid JSON"):
        read_leandojo_theorems(path)


def test_minif2f_reader_names_the_missing_field(tmp_path):
    record = {"name": "n", "split": "test", "formal_statement": "theorem n : True := by\n", "goal": "⊢ True",
              "header": "import Mathlib\n"}  # fmt: skip
    path = write_lines(tmp_path / "minif2f.jsonl", [record, {k: v for k, v in record.items() if k != "header"}])
    with pytest.raises(ValueError, match=r"minif2f.jsonl:2: missing field 'header'"):
        read_minif2f(path)


def test_prompt_format_puts_the_loss_on_the_tactic_only():
    pair = TacticPair("x : ℕ\n⊢ x = x", "rfl", "no goals", "t", 0)
    assert format_tactic(pair.state) == "[GOAL]\nx : ℕ\n⊢ x = x\n[PROOFSTEP]\n"
    assert tactic_example(pair) == (format_tactic(pair.state), "rfl")


# ---------------------------------------------------------------- the Lean backend


def test_statement_completion_with_sorry():
    assert with_sorry("theorem t : True := by\n") == "theorem t : True := by\n  sorry"
    assert with_sorry("theorem t : True :=") == "theorem t : True := by\n  sorry"
    with pytest.raises(ValueError, match="must end with"):
        with_sorry("theorem t : True")


@pytest.mark.skipif(HAS_LEAN_INTERACT, reason="lean-interact is installed")
def test_missing_lean_interact_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install -e \.\[lean\] and a Lean toolchain"):
        LeanEnv()


class FakeServer:
    """Answers like the Lean REPL for a theorem `⊢ p ∧ q` (tactics: split, trivial, sorry, …)."""

    def __init__(self):
        self.requests = []

    def run(self, request, **options):
        self.requests.append(request)
        self.options = options
        if request.kind == "command":
            if request.cmd.startswith("import"):
                return SimpleNamespace(env=7, messages=[], sorries=[])
            sorry = SimpleNamespace(goal="p q : Prop\n⊢ p ∧ q", proof_state=0)
            return SimpleNamespace(env=8, messages=[], sorries=[sorry])
        tactic = request.tactic
        if tactic == "crash":
            raise TimeoutError("REPL timed out")
        if tactic == "fatal":
            return SimpleNamespace(message="Lean error: unknown proof state")
        if tactic == "bad":
            return SimpleNamespace(messages=[SimpleNamespace(severity="error", data="unknown tactic")])
        goals = ["p q : Prop\n⊢ p", "p q : Prop\n⊢ q"] if tactic == "constructor" else []
        status = "Incomplete: contains sorry" if tactic == "sorry" else "Completed"
        return SimpleNamespace(messages=[], goals=goals, proof_state=1, proof_status=status)


@pytest.fixture
def fake_lean(monkeypatch):
    module = SimpleNamespace(
        Command=lambda cmd, env=None: SimpleNamespace(kind="command", cmd=cmd, env=env),
        ProofStep=lambda proof_state, tactic: SimpleNamespace(kind="step", proof_state=proof_state, tactic=tactic),
        LeanServer=lambda config: FakeServer(),
        LeanREPLConfig=lambda: None,
    )
    monkeypatch.setattr(lean_backend, "_lean_interact", lambda: module)
    return module


def test_lean_env_protocol_with_a_fake_repl(fake_lean):
    env = LeanEnv(header="import Mathlib\n")
    assert isinstance(env, ProofEnv)
    state = env.start("theorem t (p q : Prop) : p ∧ q := by\n")
    command = env.server.requests[-1]
    assert command.env == 7 and command.cmd.endswith(":= by\n  sorry")
    assert state.text == "p q : Prop\n⊢ p ∧ q" and state.proof_state == 0
    split = env.apply(state, "constructor")
    assert split.ok and split.state.text == "p q : Prop\n⊢ p\n\np q : Prop\n⊢ q"
    assert env.apply(split.state, "trivial", goal=1).ok
    assert env.server.requests[-1].tactic == "on_goal 2 => trivial"
    assert env.apply(state, "trivial").proved and env.apply(state, "trivial").state.text == NO_GOALS
    assert "not accepted" in env.apply(state, "sorry").error
    assert env.apply(state, "bad").error == "unknown tactic"
    assert "unknown proof state" in env.apply(state, "fatal").error
    assert "timed out" in env.apply(state, "crash").error
    env.start("theorem u : True :=")
    assert sum(r.kind == "command" and r.cmd.startswith("import") for r in env.server.requests) == 1
    assert env.server.options == {}
    timed = LeanEnv(timeout=5.0)
    timed.apply(timed.start("theorem t (p q : Prop) : p ∧ q := by"), "constructor")
    assert timed.server.options == {"timeout": 5.0} and timed.server.requests[0].env is None


LEAN_READY = HAS_LEAN_INTERACT and shutil.which("lake") is not None


@pytest.mark.lean
@pytest.mark.skipif(not LEAN_READY, reason="needs lean-interact (pip install -e .[lean]) and `lake` on PATH")
def test_lean_proves_a_generated_propositional_theorem():
    from src.search.theorems import generate_theorems

    env = LeanEnv()
    for theorem in generate_theorems(6, seed=0, lengths=[1, 3, 5, 7, 9, 11]):
        state = env.start(theorem.to_lean())
        assert env.apply(state, "exact nonexistent_name").error
        for tactic in theorem.proof:
            result = env.apply(state, tactic)
            assert result.ok, (theorem, tactic, result.error)
            state = result.state
        assert state.is_done
        assert not env.apply(env.start(theorem.to_lean()), "sorry").ok
