"""Grading MATH answers: extract the boxed answer, normalise it, judge equivalence.

Two graders (`evaluation.grader`): `strict` accepts equal normalised strings and equal plain numbers
only — the reference code's rule (normalised boxed-string equality); `equivalent` (default) also asks
math-verify, so that every correct spelling counts, but math-verify also finds the right value inside
junk (`" \\frac{5 8}{ance}\\24}{ 10"` for 10), which inflates the pass rates of weak models
(docs/fidelity.md).

Equivalence is decided in two steps. Equal normalised strings are accepted at once (Hendrycks /
Minerva-style normalisation, no sympy), two plain numbers are compared exactly, and a prediction with
nothing to read as a value is rejected (the gate in `_fast_verdict`). Everything else goes to
`math-verify` in persistent child processes: math-verify can hang on inputs like
``10^{10^{10^{10}}}``, so each pair gets a hard time limit, and a worker that overruns it is killed
(the pair counts as not equivalent) and replaced on the next call.

`prefetch` starts math-verify on a batch's pairs in the background (one thread per worker process,
`set_grading_workers`), so the evaluator samples the next batch while they are graded; `grade_many`
waits for what is still running and answers from the verdicts cache.
"""
from __future__ import annotations

import atexit
import multiprocessing
import queue
import re
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path

from src.data.answers import extract_boxed
from src.utils.choices import Choice


class Grader(Choice, key="evaluation.grader"):
    EQUIVALENT = "equivalent"  # normalised strings, exact numbers, then math-verify
    STRICT = "strict"          # normalised strings and exact numbers only (the reference code's rule)

# ----------------------------------------------------------------------------- normalisation

_UNIT_WORDS = (
    "square units|square feet|square inches|square meters|square centimeters|units?|centimeters?|"
    "meters?|kilometers?|inches|feet|foot|yards?|miles?|degrees?|radians?|seconds?|minutes?|"
    "hours?|days?|weeks?|years?|dollars?|cents?|pounds?|ounces?|grams?|gallons?|liters?|"
    "ways|points?|people|students|digits|integers|edges|meals|children|marbles|cookies"
)
_UNIT_ABBREVIATIONS = "sq ft|cm|mm|m|km|in|ft|mph|sec|min|lbs?|kg"  # only inside \text{}: "5m" may be 5·m
_UNIT_POWER = r"(?:\^\{?[23]\}?)?"
_TEXT_UNITS = re.compile(r"\\(?:text|textnormal|mbox|mathrm)\{\s*(?:%s|%s)\s*\}%s"
                         % (_UNIT_WORDS, _UNIT_ABBREVIATIONS, _UNIT_POWER))
_BARE_UNITS = re.compile(r"(?<=[\d}])\s+(?:%s)%s\s*$" % (_UNIT_WORDS, _UNIT_POWER))
_TEXT = re.compile(r"\\(?:text|textnormal|textbf|textit|mbox|mathrm|mathbf)\{([^{}]*)\}")
_SPACING = re.compile(r"(?<!\\)\\[!,;: ]|\\q?quad|\\displaystyle|~")
_LEFT_RIGHT = re.compile(r"\\(?:left|right)(?![a-zA-Z])")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\degree")
_VARIABLE_PREFIX = re.compile(r"^(?:[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+)\s*(?:=|\\in(?![a-zA-Z]))")
_FRAC_ARG = r"(?:\{([^{}]*)\}|([0-9a-zA-Z]))"
_FRAC = re.compile(r"\\frac" + _FRAC_ARG + _FRAC_ARG)
_SQRT = re.compile(r"\\sqrt([0-9a-zA-Z])")
_SLASH_FRACTION = re.compile(r"^(-?)(\d+)/(\d+)$")
_CHOICE = re.compile(r"^\(([A-Ea-e])\)$")
_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?$")


def normalize_answer(answer: str) -> str:
    """Hendrycks/Minerva-style canonical form of a final answer, for string comparison.

    Removes what does not change the value (boxes, ``$``, spacing commands, ``\\left``/``\\right``,
    degree signs, ``%``, ``\\text{}`` units, ``x =`` prefixes, trailing periods, spaces) and writes
    what can be written two ways one way (``\\dfrac``/``\\tfrac`` → ``\\frac``, ``\\frac12`` →
    ``\\frac{1}{2}``, ``\\sqrt2`` → ``\\sqrt{2}``, ``1/2`` → ``\\frac{1}{2}``, ``1,000.50`` → ``1000.5``,
    ``.5`` → ``0.5``, ``(C)`` → ``C``). Regular expressions only, linear in the input length.
    """
    s = answer.strip()
    boxed = extract_boxed(s)
    s = boxed if boxed is not None else s
    s = s.replace("\n", " ").replace("\\$", "").replace("$", "").replace("{,}", ",")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _SPACING.sub(" ", s)
    s = _LEFT_RIGHT.sub("", s)
    s = _DEGREES.sub("", s)
    s = s.replace("\\%", "").replace("%", "")
    s = _TEXT_UNITS.sub("", s)
    s = _BARE_UNITS.sub("", s)
    s = _TEXT.sub(r"\1", s)
    s = s.strip().rstrip(".").strip()
    if s.count("=") == 1 or "\\in" in s:
        s = _VARIABLE_PREFIX.sub("", s).strip()
    if _NUMBER.match(s):  # before dropping spaces: "6, 120" is a list, not 6120
        return _canonical_number(s)
    s = s.replace(" ", "")
    s = _FRAC.sub(lambda m: "\\frac{%s}{%s}" % (m[1] or m[2], m[3] or m[4]), s)
    s = _SQRT.sub(r"\\sqrt{\1}", s)
    s = _SLASH_FRACTION.sub(r"\1\\frac{\2}{\3}", s)
    return _CHOICE.sub(r"\1", s)


def _canonical_number(s: str) -> str:
    digits = s.replace(",", "")
    # exact at any length: the default context rounds to 28 digits and overflows past 999999 of them
    exact = Context(prec=max(28, len(digits)), Emax=MAX_EMAX, Emin=MIN_EMIN)
    try:
        value = Decimal(digits)
    except InvalidOperation:  # "", "-", "."
        return s
    text = format(value.normalize(exact), "f")
    return "0" if text in ("-0", "0") else text


# ----------------------------------------------------------------------------- equivalence


def is_equivalent(pred: str | None, gold: str, timeout: float = 5.0, grader: Grader = Grader.EQUIVALENT) -> bool:
    """Whether a predicted final answer equals the reference one (see the module docstring)."""
    return grade_many([pred], [gold], timeout, grader)[0]


def grade_many(preds: list[str | None], golds: list[str], timeout: float = 5.0,
               grader: Grader = Grader.EQUIVALENT) -> list[bool]:
    """`is_equivalent` for many pairs: string fast path and gate, then one math-verify call per
    distinct remaining pair (shared with pairs `prefetch` already sent). A missing prediction (None,
    e.g. no box) is never correct."""
    if len(preds) != len(golds):
        raise ValueError(f"grade_many: {len(preds)} predictions but {len(golds)} references")
    verdicts = prefetch(preds, golds, timeout, grader)
    for future in _in_flight:
        future.result()
    _in_flight.clear()
    result = [bool(v) if v is not None else p is not None and _verified[(p, g)]
              for p, g, v in zip(preds, golds, verdicts)]
    while len(_verified) > _VERIFIED_CAPACITY:  # forget the oldest verdicts first
        del _verified[next(iter(_verified))]
    return result


def prefetch(preds: list[str | None], golds: list[str], timeout: float = 5.0,
             grader: Grader = Grader.EQUIVALENT) -> list[bool | None]:
    """Start math-verify in the background on the pairs the fast path cannot settle (so that the
    caller can sample the next batch meanwhile); returns the fast verdicts (None: math-verify's).
    The strict grader settles every pair here: what the fast path does not accept is wrong."""
    verdicts = [False if pred is None else _fast_verdict(normalize_answer(pred), normalize_answer(gold))
                for pred, gold in zip(preds, golds)]
    if grader is Grader.STRICT:
        return [bool(v) for v in verdicts]
    pending = sorted({(p, g) for p, g, v in zip(preds, golds, verdicts)
                      if v is None and (p, g) not in _verified and (p, g) not in _scheduled})
    if pending:
        _scheduled.update(pending)
        chunk = max(1, min(_CHUNK, -(-len(pending) // _workers)))
        _in_flight.extend(_executor().submit(_verify_into_cache, pending[i:i + chunk], timeout)
                          for i in range(0, len(pending), chunk))
    return verdicts


_PLAIN_NUMBER = re.compile(r"^(-?)(?:(\d+(?:\.\d*)?|\.\d+)|\\frac\{(\d+)\}\{(\d+)\}|(\d+)/(\d+))$")
_verified: dict[tuple[str, str], bool] = {}  # math-verify verdicts, reused across calls (epochs)
_VERIFIED_CAPACITY = 200_000
_CHUNK = 64  # pairs per background task: small enough to spread over the workers


def _as_number(s: str) -> Fraction | None:
    """The exact value of a normalised plain number (-3, 2.50, \\frac{1}{2}, 3/4), else None."""
    m = _PLAIN_NUMBER.match(s)
    if m is None or len(s) > 40:
        return None
    sign, decimal, num, den = m[1], m[2], m[3] or m[5], m[4] or m[6]
    if decimal is None and int(den) == 0:
        return None
    value = Fraction(decimal) if decimal is not None else Fraction(int(num), int(den))
    return -value if sign else value


def _fast_verdict(pred: str, gold: str) -> bool | None:
    """True for equal normalised strings; for two plain numbers, exact comparison; False for a
    hopeless prediction; else None (undecided: math-verify is asked)."""
    if pred == gold:
        return True
    a, b = _as_number(pred), _as_number(gold)
    if a is not None and b is not None:
        return a == b
    return False if hopeless(pred, gold) else None


_NOTHING_TO_READ = re.compile(r"[\s!-/:-@\[\]-`{-~]*")  # ASCII punctuation and spaces, no backslash


def hopeless(pred: str, gold: str) -> bool:
    """The gate: a normalised prediction with nothing math-verify could read as a value (no digit,
    letter, command or non-ASCII symbol: only brackets, operators, punctuation) cannot equal a
    reference that has one. tests/test_grading.py checks it against math-verify on MATH."""
    return _NOTHING_TO_READ.fullmatch(pred) is not None and _NOTHING_TO_READ.fullmatch(gold) is None


def math_verify_many(preds, golds, timeout: float = 5.0) -> list[bool]:
    """math-verify's verdict for each pair, at most `timeout` seconds per pair (False past it)."""
    return _verify(list(zip(preds, golds)), timeout)


def _verify(pairs: list[tuple[str, str]], timeout: float) -> list[bool]:
    """Verdicts from an idle worker process (a new one if none is idle), which is then idle again."""
    try:
        worker = _idle_workers.get_nowait()
    except queue.Empty:
        worker = None
    verdicts: list[bool] = []
    try:
        while len(verdicts) < len(pairs):
            if worker is None:
                worker = _MathVerifyWorker()
            verdicts += worker.grade(pairs[len(verdicts):], timeout)
            if not worker.alive:  # it overran a pair's time limit (or crashed on it) and was killed
                worker = None
                verdicts.append(False)
    finally:
        if worker is not None:
            _idle_workers.put(worker)
    return verdicts


def _verify_into_cache(pairs: list[tuple[str, str]], timeout: float) -> None:
    try:
        _verified.update(zip(pairs, _verify(pairs, timeout)))
    finally:
        _scheduled.difference_update(pairs)


def set_grading_workers(workers: int) -> None:
    """Grade with `workers` math-verify processes from now on (src/utils/threads.py chooses it)."""
    global _workers
    if workers < 1:
        raise ValueError(f"grading workers={workers}; must be ≥ 1")
    _workers = workers


def _executor() -> ThreadPoolExecutor:
    """One thread per worker process; each blocks on its process's answers, so the GIL stays free."""
    if _workers not in _executors:
        _executors[_workers] = ThreadPoolExecutor(max_workers=_workers, thread_name_prefix="math-verify")
    return _executors[_workers]


class _MathVerifyWorker:
    """A child process (``python -m src.evaluation.grading FD``) that answers lists of
    (pred, gold) pairs with one verdict per pair over a socket. A plain subprocess rather than
    multiprocessing: nothing of the parent (threads, ``__main__``) is forked or re-imported."""

    def __init__(self, startup_timeout: float = 120.0):
        self._conn, child_conn = multiprocessing.Pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(child_conn.fileno())],
            pass_fds=[child_conn.fileno()], cwd=Path(__file__).resolve().parents[2])
        child_conn.close()
        if self._receive(startup_timeout) != "ready":
            raise RuntimeError("the math-verify worker did not start; is math-verify installed?")

    @property
    def alive(self) -> bool:
        return self._process is not None

    def grade(self, pairs: list[tuple[str, str]], timeout: float) -> list[bool]:
        """Verdicts for a prefix of `pairs`: all of them, or those before the first that overran
        `timeout`, in which case the worker is dead afterwards."""
        self._conn.send(pairs)
        verdicts = []
        for _ in pairs:
            verdict = self._receive(timeout)
            if verdict is None:
                break
            verdicts.append(verdict)
        return verdicts

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._conn.close()
            self._process = None

    def _receive(self, timeout: float):
        try:
            if self._conn.poll(timeout):
                return self._conn.recv()
        except (EOFError, OSError):  # the child died, e.g. a C stack overflow in the parser
            pass
        self.kill()
        return None


_workers = 1
_executors: dict[int, ThreadPoolExecutor] = {}  # by size
_in_flight: list[Future] = []
_scheduled: set[tuple[str, str]] = set()  # pairs a background task is verifying now
_idle_workers: queue.SimpleQueue[_MathVerifyWorker] = queue.SimpleQueue()


@atexit.register
def _stop_workers() -> None:
    while not _idle_workers.empty():
        _idle_workers.get_nowait().kill()


def _serve(conn: Connection) -> None:
    """Child process loop. Timeouts are enforced by the parent, so math-verify's own signal-based
    ones are switched off."""
    import functools
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)

    @functools.lru_cache(maxsize=1 << 16)  # a reference meets all of its samples' answers, and
    def parsed(text: str):                   # small models give the same answers to many problems
        return parse(f"${text}$", parsing_timeout=None)

    def equivalent(pred: str, gold: str) -> bool:
        try:
            return bool(verify(parsed(gold), parsed(pred), timeout_seconds=None))
        except Exception:  # noqa: BLE001 - any failure to parse or compare means "not shown equal"
            return False

    equivalent("1", "1")  # import and warm up sympy before announcing readiness
    conn.send("ready")
    try:
        while True:
            for pred, gold in conn.recv():
                conn.send(equivalent(pred, gold))
    except EOFError:  # the parent closed its end
        pass


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
