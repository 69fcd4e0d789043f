"""MATH prompt formats (direct answer, chain of thought) and train/test split checks.

A format maps a record to (prompt, target); the loss is on the target only. The prompt wording
follows the reference code's `"Question: {qe}\\nAnswer: {ans}"`, with the separating space moved
into the target so the target's first token is a word-initial token. The end-of-sequence token is
the tokenizer's business, not the format's.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from src.data.records import MathRecord
from src.data.answers import extract_boxed


def normalize_problem(text: str) -> str:
    """Lower-case and collapse whitespace: the text key for duplicate and overlap checks."""
    return " ".join(text.lower().split())


def format_direct(record: MathRecord) -> tuple[str, str]:
    """Question -> final answer only (the paper's main MATH setting)."""
    return f"Question: {record.problem}\nAnswer:", f" {record.answer}"


def format_cot(record: MathRecord) -> tuple[str, str]:
    """Question -> full solution ending in `\\boxed{answer}` (appended when the solution has no box)."""
    solution = record.solution.strip()
    if extract_boxed(solution) is None:
        solution += f" The answer is $\\boxed{{{record.answer}}}$."
    return f"Question: {record.problem}\nSolution:", f" {solution}"


PROMPT_FORMATS = {"direct": format_direct, "cot": format_cot}


def check_splits(train: Sequence[MathRecord], test: Sequence[MathRecord]) -> dict[str, int]:
    """Raise ValueError on an empty split, a repeated unique_id, or any train/test overlap by
    unique_id or by normalised problem text. Repeated texts *inside* a split are only counted
    (MATH itself has two such pairs in the PRM800K train split)."""
    for name, split in (("train", train), ("test", test)):
        if not split:
            raise ValueError(f"the {name} split is empty")
        repeated = [uid for uid, count in Counter(r.unique_id for r in split).items() if count > 1]
        if repeated:
            raise ValueError(f"{len(repeated)} unique_id(s) repeat in the {name} split, e.g. {repeated[:3]}")
    shared_ids = {r.unique_id for r in train} & {r.unique_id for r in test}
    train_texts = Counter(normalize_problem(r.problem) for r in train)
    test_texts = Counter(normalize_problem(r.problem) for r in test)
    shared_texts = train_texts.keys() & test_texts.keys()
    if shared_ids or shared_texts:
        example = sorted(shared_ids)[:3] or [text[:80] for text in sorted(shared_texts)[:3]]
        raise ValueError(
            f"train/test overlap: {len(shared_ids)} shared unique_id(s), "
            f"{len(shared_texts)} shared problem text(s) after normalisation, e.g. {example}"
        )
    return {
        "train": len(train),
        "test": len(test),
        "train_repeated_texts": sum(count - 1 for count in train_texts.values()),
        "test_repeated_texts": sum(count - 1 for count in test_texts.values()),
    }
