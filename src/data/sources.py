"""Where MATH comes from, resolved in one place: a local folder, the Hugging Face hub, or the
built-in synthetic generator.

    load_math("path", path="../shared/data/math")   # train.jsonl + test.jsonl, or the staged
                                                    # math_train_12k.jsonl + math500_test.jsonl
    load_math("hub")      # rebuilds PRM800K's 12,000 / 500 split (needs `pip install -e .[hub]`)
    load_math("builtin")  # offline synthetic problems (src.data.synthetic), with a loud warning
    load_math()           # "auto": the path when one is given, else builtin (never the hub)

A given path is always used: a missing folder or one without a split pair is an error naming the
folder and the accepted file names, never a silent fall-back. A path beside source=hub or builtin is
an error too (one of them would be ignored). The hub is contacted only for source=hub; its failures
end in `HubUnavailable`, which names the alternatives. Every source is checked by `check_splits`
(no empty split, no repeated id, no train/test overlap).
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


class HubUnavailable(RuntimeError):
    """source=hub could not get MATH from the Hugging Face hub (offline, unreachable, or a mirror
    gone); the message says why and what to use instead."""


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
    source = resolve_source(source, path)
    if source == "path":
        splits = load_path(path)
    elif source == "hub":
        splits = load_hub()
    else:
        settings = {"n_train": n_train or BUILTIN_SIZES[0], "n_test": n_test or BUILTIN_SIZES[1], "seed": seed,
                    **(synthetic or {})}
        splits = MathSplits(*generate_math(**settings), resolved_source="builtin")
    check_splits(splits.train, splits.test)
    used = MathSplits(
        _subset(splits.train, n_train, random.Random(f"{seed}/train"), "train"),
        _subset(splits.test, n_test, random.Random(f"{seed}/test"), "test"),
        splits.resolved_source,
    )
    if source == "builtin":
        _warn_builtin(settings, used)
    return used


def resolve_source(source: str, path: str | os.PathLike | None) -> str:
    """The source `load_math` reads: "auto" is the path when one is given, else builtin. A path
    beside another explicit source is refused, since one of the two would be silently ignored."""
    if source not in SOURCES:
        raise ValueError(f"unknown MATH source {source!r}; accepted: {', '.join(SOURCES)}")
    if source == "auto":
        return "builtin" if path is None else "path"
    if path is not None and source != "path":
        raise ValueError(f"data.path={path} is given but data.source={source} would ignore it; "
                         f"use data.source=path (or auto) to read the folder, or drop data.path")
    return source


def _subset(records: list[MathRecord], n: int | None, rng: random.Random, name: str) -> list[MathRecord]:
    if n is None or n == len(records):
        return records
    if not 0 < n <= len(records):
        raise ValueError(f"n_{name}={n} but the {name} split has {len(records)} records")
    return [records[i] for i in sorted(rng.sample(range(len(records)), n))]


def _warn_builtin(settings: Mapping, used: MathSplits) -> None:
    """The banner of a built-in run, with the sizes used (after `n_train` / `n_test`)."""
    bar = "=" * 78
    generator = ", ".join(f"{k}={v}" for k, v in settings.items() if k not in ("n_train", "n_test"))
    log.warning(
        "\n%s\n  USING THE BUILT-IN SYNTHETIC MATH GENERATOR, NOT THE MATH DATASET\n"
        "  %d train / %d test problems (%s)\n"
        "  Numbers from this run are NOT comparable with the paper. For MATH give\n"
        "  data.path=<folder with train.jsonl and test.jsonl>, or data.source=hub.\n%s",
        bar, len(used.train), len(used.test), generator, bar,
    )


# ------------------------------------------------------------------------------------ local folder


def split_files(path: str | os.PathLike | None) -> tuple[Path, Path]:
    """(train, test) files of a MATH folder holding exactly one of the SPLIT_FILES pairs; the error
    names the folder, the accepted pairs and what it holds."""
    expected = " or ".join(" + ".join(pair) for pair in SPLIT_FILES)
    if path is None:
        raise ValueError(f"data.source=path needs data.path: a folder with {expected}")
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"data.path={path}: MATH folder {folder} does not exist (expected a folder "
                                f"with {expected})")
    present = [pair for pair in SPLIT_FILES if all((folder / name).is_file() for name in pair)]
    if len(present) != 1:
        found = sorted(p.name for p in folder.glob("*.jsonl"))
        problem = "holds more than one" if present else "holds none"
        raise FileNotFoundError(f"data.path={path}: {folder} {problem} of the accepted file pairs "
                                f"({expected}); found {found}")
    return folder / present[0][0], folder / present[0][1]


def load_path(path: str | os.PathLike | None) -> MathSplits:
    train, test = split_files(path)
    return MathSplits(read_math_jsonl(train), read_math_jsonl(test), f"path:{train.parent}")


# -------------------------------------------------------------------------------- Hugging Face hub


def hub_offline() -> bool:
    """HF_HUB_OFFLINE or HF_DATASETS_OFFLINE is set: `datasets` reads its local cache only."""
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_endpoint() -> tuple[str, int]:
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    return endpoint.hostname, endpoint.port or (80 if endpoint.scheme == "http" else 443)


def hub_reachable(timeout: float = 2.0) -> bool:
    """False in offline mode, else a TCP connect to the hub endpoint within `timeout` seconds (DNS
    included: the probe runs in a daemon thread)."""
    if hub_offline():
        return False
    connected = threading.Event()

    def probe() -> None:
        try:
            socket.create_connection(hub_endpoint(), timeout=timeout).close()
            connected.set()
        except OSError:
            pass

    threading.Thread(target=probe, daemon=True).start()
    return connected.wait(timeout)


HUB_ALTERNATIVES = (f"Alternatives: a local copy, data.path=<folder with {' + '.join(SPLIT_FILES[0])}> "
                    f"(source=auto or path reads it), or the built-in problems, data.source=builtin "
                    f"(not comparable with the paper)")


def load_hub() -> MathSplits:
    """PRM800K's split from public mirrors: test = MATH-500; train = the other 12,000 MATH problems.
    Offline mode reads the `datasets` cache; otherwise an unreachable hub fails at once."""
    try:
        import datasets
    except ImportError as error:
        raise ImportError("source='hub' needs the `datasets` package: pip install -e .[hub]") from error
    if not hub_offline() and not hub_reachable():
        raise HubUnavailable(f"data.source=hub: the Hugging Face hub ({hub_endpoint()[0]}) is unreachable. "
                             f"{HUB_ALTERNATIVES}")

    def download(name: str, config: str | None = None, split: str = "test"):
        try:
            return datasets.load_dataset(name, config, split=split)
        except Exception as error:  # ConnectionError, HTTP errors, a missing cache: the same advice
            cause = " (offline mode: only the local cache is read)" if hub_offline() else ""
            raise HubUnavailable(
                f"data.source=hub: loading {name}{f' ({config})' if config else ''} {split} split failed"
                f"{cause}: {type(error).__name__}: {error}. {HUB_ALTERNATIVES}") from None

    math500 = download(MATH500_HUB_ID)
    math_rows = (
        (f"{split}/{config}/row{index}", row)
        for config in MATH_CONFIGS
        for split in ("train", "test")
        for index, row in enumerate(download(MATH_HUB_ID, config, split))
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
