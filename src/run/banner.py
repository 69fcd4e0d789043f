"""The line a run prints when it starts: the sizes it actually uses, after every override."""
from __future__ import annotations

from omegaconf import DictConfig


def start_banner(cfg: DictConfig, splits, parameters: int, job: str) -> str:
    """`splits` has train, test and resolved_source (MATH or proofs); `job` is what runs ("objective cross_entropy, 12 epochs" or "evaluation"); the problem counts
    are those loaded and evaluated, not the config's defaults."""
    evaluated = len(splits.test) if cfg.data.get("eval_problems") is None else min(cfg.data.eval_problems,
                                                                                     len(splits.test))
    sampled = cfg.evaluation.get("samples_per_problem")
    line = (f"data: {splits.resolved_source} · {len(splits.train)} train / {len(splits.test)} test problems, "
            f"{evaluated} evaluated" + (f" with {sampled} samples each" if sampled else ""))
    tracked = min(cfg.data.get("eval_train_problems") or 0, len(splits.train))
    if tracked:
        line += f", {tracked} training problems tracked"
    return f"{line} · model: {parameters / 1e6:.2f}M parameters · {job}"
