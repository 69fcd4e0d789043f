"""Where MATH comes from, resolved in one place: a local folder, the Hugging Face hub, or the
built-in synthetic generator.

    load_math("path", path="../shared/data/math")   # train.jsonl + test.jsonl, or the staged
                                                    # math_train_12k.jsonl + math500_test.jsonl
    load_math("hub")      # rebuilds PRM800K's 12,000 / 500 split (needs `pip install -e .[hub]`)
    load_math("builtin")  # offline synthetic problems (src.data.synthetic), with a loud warning
    load_math()           # "auto": the path if it exists, else the hub if reachable, else builtin

Every source is checked by `check_splits` (no empty split, no repeated id, no train/test overlap).
"""
from __future__ import annotations

import logging
import os
import random
import re
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from src.data.math import check_splits, normalize_problem
from src.data.records import DataFormatError, MathRecord, read_math_jsonl
from src.data.synthetic import generate_math
from src.data.answers import extract_boxed

log = logging.getLogger(__name__)

SOURCES = ("auto", "path", "hub", "builtin")
# (train, test) file names accepted in a `path` folder, in the order they are looked for.
SPLIT_FILES = (("train.jsonl", "test.jsonl"), ("math_train_12k.jsonl", "math500_test.jsonl"))
MATH_HUB_ID = "EleutherAI/hendrycks_math"  # Hendrycks MATH: 7 subject configs x {train, test}
MATH500_HUB_ID = "HuggingFaceH4/MATH-500"  # PRM800K's test split, with unique_id
MATH_CONFIGS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                "number_theory", "prealgebra", "precalculus")
PRM800K_SIZES = (12_000, 500)
BUILTIN_SIZES = (4_000, 500)  # (n_train, n_test) when neither `n_*` nor `synthetic` says otherwise


@dataclass(frozen=True)
class MathSplits:
    train: list[MathRecord]
    test: list[MathRecord]
    resolved_source: str  # "path:/abs/dir", "hub:<dataset ids>" or "builtin"


def load_math(
    source: str = "auto",
    path: str | os.PathLike | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    synthetic: Mapping | None = None,
) -> MathSplits:
    """Load, check and (optionally) subsample MATH. `n_train` / `n_test` keep a seeded subset in
    file order; `synthetic` holds keyword arguments for `generate_math` (builtin only)."""
    if source not in SOURCES:
        raise ValueError(f"unknown MATH source {source!r}; accepted: {', '.join(SOURCES)}")
    if source == "auto":
        source = _resolve_auto(path)
    if source == "path":
        splits = load_path(path)
    elif source == "hub":
        splits = load_hub()
    else:
        settings = {"n_train": n_train or BUILTIN_SIZES[0], "n_test": n_test or BUILTIN_SIZES[1], "seed": seed,
                    **(synthetic or {})}
        splits = MathSplits(*generate_math(**settings), resolved_source="builtin")
        _warn_builtin(settings)
    check_splits(splits.train, splits.test)
    return MathSplits(
        _subset(splits.train, n_train, random.Random(f"{seed}/train"), "train"),
        _subset(splits.test, n_test, random.Random(f"{seed}/test"), "test"),
        splits.resolved_source,
    )


def _resolve_auto(path) -> str:
    if path is not None and Path(path).is_dir():
        return "path"
    if path is not None:
        log.warning("MATH path %s does not exist; trying the hub, then the built-in generator", path)
    if hub_reachable():
        try:
            import datasets  # noqa: F401
            return "hub"
        except ImportError:
            log.warning("the hub is reachable but `datasets` is missing (pip install -e .[hub])")
    return "builtin"


def _subset(records: list[MathRecord], n: int | None, rng: random.Random, name: str) -> list[MathRecord]:
    if n is None or n == len(records):
        return records
    if not 0 < n <= len(records):
        raise ValueError(f"n_{name}={n} but the {name} split has {len(records)} records")
    return [records[i] for i in sorted(rng.sample(range(len(records)), n))]


def _warn_builtin(settings: Mapping) -> None:
    bar = "=" * 78
    log.warning(
        "\n%s\n  USING THE BUILT-IN SYNTHETIC MATH GENERATOR, NOT THE MATH DATASET (%s)\n"
        "  Numbers from this run are NOT comparable with the paper. For MATH use\n"
        "  source=path with path=<folder with train.jsonl and test.jsonl>, or source=hub.\n%s",
        bar, ", ".join(f"{k}={v}" for k, v in settings.items()), bar,
    )


# ------------------------------------------------------------------------------------ local folder


def load_path(path: str | os.PathLike | None) -> MathSplits:
    """A folder holding exactly one of the SPLIT_FILES pairs."""
    if path is None:
        raise ValueError("source='path' needs a path (a folder with train.jsonl and test.jsonl)")
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"MATH folder {folder} does not exist")
    present = [pair for pair in SPLIT_FILES if all((folder / name).is_file() for name in pair)]
    if len(present) != 1:
        found = sorted(p.name for p in folder.glob("*.jsonl"))
        problem = "holds more than one" if present else "holds none"
        raise FileNotFoundError(f"{folder} {problem} of the accepted file pairs {SPLIT_FILES}; found {found}")
    train_name, test_name = present[0]
    return MathSplits(read_math_jsonl(folder / train_name), read_math_jsonl(folder / test_name), f"path:{folder}")


# -------------------------------------------------------------------------------- Hugging Face hub


def hub_reachable(timeout: float = 2.0) -> bool:
    """False when HF_HUB_OFFLINE / HF_DATASETS_OFFLINE is set, else a TCP connect to the hub
    endpoint within `timeout` seconds (DNS included: the probe runs in a daemon thread)."""
    if any(os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
           for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    address = (endpoint.hostname, endpoint.port or (80 if endpoint.scheme == "http" else 443))
    connected = threading.Event()

    def probe() -> None:
        try:
            socket.create_connection(address, timeout=timeout).close()
            connected.set()
        except OSError:
            pass

    threading.Thread(target=probe, daemon=True).start()
    return connected.wait(timeout)


def load_hub() -> MathSplits:
    """PRM800K's split from public mirrors: test = MATH-500; train = the other 12,000 MATH problems."""
    try:
        import datasets
    except ImportError as error:
        raise ImportError("source='hub' needs the `datasets` package: pip install -e .[hub]") from error
    math500 = datasets.load_dataset(MATH500_HUB_ID, split="test")
    math_rows = (
        (f"{split}/{config}/row{index}", row)
        for config in MATH_CONFIGS
        for split in ("train", "test")
        for index, row in enumerate(datasets.load_dataset(MATH_HUB_ID, config, split=split))
    )
    train, test = rebuild_prm800k_split(math_rows, math500)
    if (len(train), len(test)) != PRM800K_SIZES:
        raise ValueError(f"hub rebuild gave {len(train)} train / {len(test)} test records, expected "
                         f"{PRM800K_SIZES[0]} / {PRM800K_SIZES[1]}: the mirrors {MATH_HUB_ID} and "
                         f"{MATH500_HUB_ID} no longer match; use source=path with a local copy")
    return MathSplits(train, test, f"hub:{MATH_HUB_ID}+{MATH500_HUB_ID}")


def rebuild_prm800k_split(
    math_rows: Iterable[tuple[str, Mapping]], math500_rows: Iterable[Mapping]
) -> tuple[list[MathRecord], list[MathRecord]]:
    """PRM800K's split: test = the MATH-500 records; train = every raw MATH row (given as
    (unique_id, row)) whose normalised problem text is not a MATH-500 problem."""
    test = [MathRecord.from_dict(row, where=f"{MATH500_HUB_ID} row {i}") for i, row in enumerate(math500_rows)]
    test_texts = {normalize_problem(record.problem) for record in test}
    train = [record_from_hendrycks(row, unique_id) for unique_id, row in math_rows]
    return [r for r in train if normalize_problem(r.problem) not in test_texts], test


def record_from_hendrycks(row: Mapping, unique_id: str) -> MathRecord:
    """Raw MATH fields (problem, level "Level N", type, solution) -> PRM800K schema: subject =
    type, level = N (None for "Level ?"), answer = last boxed content; problem and answer stripped."""
    missing = [name for name in ("problem", "level", "type", "solution") if name not in row]
    if missing:
        raise DataFormatError(f"MATH row {unique_id}: missing field(s) {', '.join(map(repr, missing))}")
    answer = extract_boxed(row["solution"])
    if answer is None:
        raise DataFormatError(f"MATH row {unique_id}: the solution has no \\boxed{{...}} answer")
    level = re.fullmatch(r"Level (\d)", row["level"].strip())
    return MathRecord(
        problem=row["problem"].strip(),
        solution=row["solution"],
        answer=answer.strip(),
        subject=row["type"],
        level=int(level.group(1)) if level else None,
        unique_id=unique_id,
    )
