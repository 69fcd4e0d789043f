"""MATH records in the PRM800K schema, and strict JSON-lines input/output.

Readers fail early: every error names the file and line (`file:line`) and what is wrong.
Writers are atomic: a killed run never leaves a half-written file that looks finished.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path

from src.utils.io import atomic_write_jsonl


class DataFormatError(ValueError):
    """Malformed data; the message names the file:line (or the record) and the problem."""


# PRM800K `math_splits/*.jsonl`: field -> accepted types (level is null for two MATH problems).
SCHEMA: dict[str, tuple[type, ...]] = {
    "problem": (str,),
    "solution": (str,),
    "answer": (str,),
    "subject": (str,),
    "level": (int, type(None)),
    "unique_id": (str,),
}


@dataclass(frozen=True)
class MathRecord:
    problem: str
    solution: str
    answer: str
    subject: str
    level: int | None
    unique_id: str

    @classmethod
    def from_dict(cls, row: Mapping, where: str = "record") -> MathRecord:
        """Validate a PRM800K-schema dict (extra keys are ignored); `where` prefixes errors."""
        if not isinstance(row, Mapping):
            raise DataFormatError(f"{where}: expected a JSON object, got {type(row).__name__}")
        missing = [name for name in SCHEMA if name not in row]
        if missing:
            raise DataFormatError(
                f"{where}: missing required field(s) {', '.join(map(repr, missing))} "
                f"(required: {', '.join(SCHEMA)})"
            )
        for name, types in SCHEMA.items():
            value = row[name]
            if not isinstance(value, types) or isinstance(value, bool):
                expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
                raise DataFormatError(
                    f"{where}: field {name!r} must be {expected}, "
                    f"got {type(value).__name__} ({value!r:.60})"
                )
        return cls(**{name: row[name] for name in SCHEMA})

    def to_dict(self) -> dict:
        return asdict(self)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """One JSON object per line; blank lines are skipped; an empty file is an error."""
    return [row for _, row in _numbered_rows(Path(path))]


def read_math_jsonl(path: str | os.PathLike) -> list[MathRecord]:
    """Read and validate a PRM800K-schema file (problem, solution, answer, subject, level, unique_id)."""
    path = Path(path)
    return [MathRecord.from_dict(row, where=f"{path}:{number}") for number, row in _numbered_rows(path)]


def utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line; a byte that is not UTF-8 is an error naming file:line:column."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataFormatError(
                    f"{path}:{number}: not UTF-8 text (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
                    "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None


def _numbered_rows(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for number, line in utf8_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{path}:{number}: malformed JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise DataFormatError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        rows.append((number, row))
    if not rows:
        raise DataFormatError(f"{path}: no records (the file is empty)")
    return rows


def write_jsonl(path: str | os.PathLike, rows: Iterable[Mapping | MathRecord]) -> Path:
    """Write rows (dicts or dataclasses) as JSON lines, atomically."""
    atomic_write_jsonl(path, (asdict(row) if is_dataclass(row) else dict(row) for row in rows))
    return Path(path)
