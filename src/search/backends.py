"""The proof environment a config names: the built-in propositional kernel, or Lean 4."""
from __future__ import annotations

from collections.abc import Mapping

from src.search.env import ProofEnv
from src.search.propositional import PropositionalEnv

ENVS = ("builtin", "lean")


def make_env(kind: str, header: str = "", lean: Mapping | None = None) -> ProofEnv:
    """`lean`: {mathlib, lean_version, timeout} (see `src.search.lean.repl_config`); Lean starts a REPL."""
    if kind == "builtin":
        return PropositionalEnv()
    if kind == "lean":
        from src.search.lean import LeanEnv, repl_config  # optional extra: pip install -e .[lean]

        options = dict(lean or {})
        config = repl_config(options.get("mathlib", False), options.get("lean_version"))
        return LeanEnv(header=header, config=config, timeout=options.get("timeout"))
    raise ValueError(f"evaluation.env={kind!r}; accepted: {list(ENVS)}")
