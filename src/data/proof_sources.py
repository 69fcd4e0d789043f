"""Where theorem-proving data comes from, resolved in one place.

    load_proofs("builtin", builtin={...})   # generated propositional theorems (offline):
                                            # training pairs from their proofs, held-out theorems
    load_proofs("leandojo", path=..., eval_path=...)
                                            # LeanDojo Benchmark 4 pairs for training,
                                            # MiniF2F statements for search (needs Lean)

Training data is a list of state → tactic pairs (`TacticPair`, all steps of a proof share its
`proof_id`); evaluation data is a list of `HeldOutTheorem`s to prove by search. Built-in held-out
theorems never repeat a training statement (nor each other).
"""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from src.data.lean import TacticPair, read_leandojo_theorems, read_minif2f, read_tactic_pairs
from src.search.theorems import Theorem, generate_theorem, generate_theorems, replay

SOURCES = ("builtin", "leandojo")
MAX_ATTEMPTS = 200  # fresh draws per held-out theorem before a length is declared exhausted


@dataclass(frozen=True)
class HeldOutTheorem:
    name: str
    statement: str  # what `ProofEnv.start` takes: a goal (built-in) or `theorem … := by` (Lean)
    length: int | None = None  # the reference proof's length, when one is known
    header: str = ""  # Lean imports and options the statement needs ("" for the built-in system)


@dataclass(frozen=True)
class ProofSplits:
    train: list[TacticPair]
    test: list[HeldOutTheorem]
    resolved_source: str  # "builtin" or "leandojo:<path> + minif2f:<path>"


def load_proofs(source: str = "builtin", path: str | None = None, eval_path: str | None = None,
                eval_split: str | None = "test", n_train: int | None = None, n_test: int | None = None,
                builtin: Mapping | None = None, seed: int = 0) -> ProofSplits:
    """`n_train` / `n_test` count theorems (a seeded subset for files, the generated number for builtin)."""
    if source not in SOURCES:
        raise ValueError(f"data.source={source!r}; accepted: {list(SOURCES)}")
    if source == "builtin":
        return builtin_proofs(seed=seed, **{**(builtin or {}), **_given(n_train=n_train, n_test=n_test)})
    if path is None or eval_path is None:
        raise ValueError("data.source=leandojo needs data.path (LeanDojo train.json, a pairs .jsonl or their "
                         "folder) and data.eval_path (MiniF2F .jsonl with the statements to prove)")
    pairs = _subset_proofs(read_training_pairs(path), n_train, seed)
    statements = read_minif2f(eval_path, split=eval_split)
    test = [HeldOutTheorem(s.name, s.formal_statement, None, s.header) for s in statements]
    if n_test is not None and n_test < len(test):
        test = sorted(random.Random(f"{seed}/test").sample(test, n_test), key=test.index)
    if not pairs or not test:
        raise ValueError(f"no {'training pairs' if not pairs else 'statements'} in "
                         f"{path if not pairs else eval_path} (split {eval_split!r})")
    return ProofSplits(pairs, test, f"leandojo:{Path(path).resolve()} + minif2f:{Path(eval_path).resolve()}")


def read_training_pairs(path: str | Path) -> list[TacticPair]:
    """A LeanDojo split file (.json), the flattened pairs (.jsonl), or a folder holding train.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "train.json"
    if not path.exists():
        raise FileNotFoundError(f"data.path: {path} does not exist")
    return read_tactic_pairs(path) if path.suffix == ".jsonl" else read_leandojo_theorems(path)


def _given(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _subset_proofs(pairs: list[TacticPair], n: int | None, seed: int) -> list[TacticPair]:
    """All steps of a seeded subset of `n` proofs (all of them when n is None)."""
    proofs = list(dict.fromkeys(p.proof_id for p in pairs))
    if n is None or n >= len(proofs):
        return pairs
    keep = set(random.Random(f"{seed}/train").sample(proofs, n))
    return [p for p in pairs if p.proof_id in keep]


# ---------------------------------------------------------------- the built-in system


def builtin_proofs(n_train: int = 600, n_test: int = 60, train_lengths: Sequence[int] = range(1, 11),
                   test_lengths: Sequence[int] = range(2, 11), seed: int = 0) -> ProofSplits:
    """Generated theorems: every step of the training theorems' (shortest) proofs, and `n_test`
    held-out theorems cycling through `test_lengths`, none with a training statement."""
    train = generate_theorems(n_train, seed=seed, lengths=list(train_lengths))
    test = held_out_theorems(n_test, seed, list(test_lengths), exclude={t.statement for t in train})
    pairs = [pair for theorem in train for pair in proof_to_pairs(theorem)]
    return ProofSplits(pairs, [HeldOutTheorem(t.name, t.statement, t.length) for t in test], "builtin")


def held_out_theorems(count: int, seed: int, lengths: list[int], exclude: set[str]) -> list[Theorem]:
    """`count` theorems of the given lengths (cycled) whose statements are new; short lengths have
    few distinct statements (length 1: about 20), so a length can run out — that fails loudly."""
    seen, theorems = set(exclude), []
    for i in range(count):
        length = lengths[i % len(lengths)]
        for attempt in range(MAX_ATTEMPTS):
            theorem = generate_theorem(length, seed=f"{seed}/test/{i}/{attempt}", name=f"heldout_{seed}_{i}")
            if theorem.statement not in seen:
                break
        else:
            raise ValueError(f"no new statement of proof length {length} in {MAX_ATTEMPTS} draws: the training "
                             "set holds them all; drop that length from data.builtin.test_lengths")
        seen.add(theorem.statement)
        theorems.append(theorem)
    return theorems


def proof_to_pairs(theorem: Theorem, proof: Sequence[str] | None = None) -> list[TacticPair]:
    """One (state → tactic) pair per step, shaped like LeanDojo's traced tactics."""
    proof = theorem.proof if proof is None else tuple(proof)
    states = replay(theorem.statement, proof)
    return [
        TacticPair(state=before.text, tactic=tactic, state_after=after.text, proof_id=theorem.name, step=i)
        for i, (before, tactic, after) in enumerate(zip(states, proof, states[1:]))
    ]
