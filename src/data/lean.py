"""Lean data: LeanDojo state→tactic pairs, MiniF2F statements, and the tactic model's prompt format.

Readers (every malformed record fails with the file, the line or theorem, and the missing field):
- LeanDojo Benchmark 4 split files (`train.json`, `val.json`, `test.json`): a JSON array of theorems
  with `full_name`, `file_path` and `traced_tactics: [{tactic, state_before, state_after}]`.
- The same flattened to one pair per line (jsonl): `full_name, file_path, url, commit, step,
  state_before, tactic, state_after`.
- MiniF2F for Lean 4 (jsonl): `name, split, informal_prefix, formal_statement, goal, header`.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from src.data.records import utf8_lines

PROMPT_TEMPLATE = "[GOAL]\n{state}\n[PROOFSTEP]\n"


@dataclass(frozen=True)
class TacticPair:
    """One proof step: in `state` the tactic `tactic` led to `state_after` (`no goals` at the end)."""

    state: str
    tactic: str
    state_after: str
    proof_id: str  # the theorem's full name: all steps of one proof share it
    step: int  # 0-based position in the proof


@dataclass(frozen=True)
class LeanStatement:
    """A theorem to prove: `header + formal_statement` is a Lean file whose proof is missing."""

    name: str
    split: str
    formal_statement: str  # ends with `:= by\n`
    goal: str  # the pretty-printed initial tactic state
    header: str  # imports and options
    informal_prefix: str = ""


def format_tactic(state: str) -> str:
    """The prompt for a tactic model; the training target is the tactic alone (loss on it only)."""
    return PROMPT_TEMPLATE.format(state=state)


def tactic_example(pair: TacticPair) -> tuple[str, str]:
    """(prompt, target) for supervised fine-tuning."""
    return format_tactic(pair.state), pair.tactic


# ---------------------------------------------------------------- readers


def _field(record: dict, key: str, where: str, kind: type = str):
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, found {type(record).__name__}")
    if key not in record:
        raise ValueError(f"{where}: missing field '{key}' (fields present: {sorted(record)})")
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}: field '{key}' should be {kind.__name__}, found {type(value).__name__}")
    return value


def _jsonl(path: Path) -> Iterator[tuple[str, dict]]:
    for number, line in utf8_lines(Path(path)):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: invalid JSON ({error.msg})") from None


def read_leandojo_theorems(path: str | Path) -> list[TacticPair]:
    """All traced tactic steps of a LeanDojo Benchmark 4 split file, in file order."""
    path = Path(path)
    try:
        theorems = json.loads("".join(line for _, line in utf8_lines(path)))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from None
    if not isinstance(theorems, list):
        raise ValueError(f"{path}: expected a JSON array of theorems, found {type(theorems).__name__}")
    pairs = []
    for index, theorem in enumerate(theorems):
        where = f"{path}: theorem #{index}"
        name = _field(theorem, "full_name", where)
        where = f"{where} ({name})"
        for step, traced in enumerate(_field(theorem, "traced_tactics", where, list)):
            at = f"{where}, traced_tactics[{step}]"
            pairs.append(TacticPair(
                state=_field(traced, "state_before", at),
                tactic=_field(traced, "tactic", at),
                state_after=_field(traced, "state_after", at),
                proof_id=name,
                step=step,
            ))  # fmt: skip
    return pairs


def read_tactic_pairs(path: str | Path) -> list[TacticPair]:
    """The flattened pairs jsonl (one state→tactic pair per line)."""
    return [
        TacticPair(
            state=_field(record, "state_before", where),
            tactic=_field(record, "tactic", where),
            state_after=_field(record, "state_after", where),
            proof_id=_field(record, "full_name", where),
            step=_field(record, "step", where, int),
        )
        for where, record in _jsonl(Path(path))
    ]


def read_minif2f(path: str | Path, split: str | None = None) -> list[LeanStatement]:
    """MiniF2F Lean 4 statements, optionally only one split (`valid` or `test`)."""
    statements = []
    for where, record in _jsonl(Path(path)):
        statement = LeanStatement(
            name=_field(record, "name", where),
            split=_field(record, "split", where),
            formal_statement=_field(record, "formal_statement", where),
            goal=_field(record, "goal", where),
            header=_field(record, "header", where),
            informal_prefix=record.get("informal_prefix", ""),
        )
        if split is None or statement.split == split:
            statements.append(statement)
    return statements
