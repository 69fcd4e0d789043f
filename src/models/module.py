"""LanguageModelModule: a causal LM, a swappable objective, and a pluggable per-epoch evaluator."""
from __future__ import annotations

import random
import time
from typing import Any, Callable, Protocol

import lightning.pytorch as pl
import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.models.logprobs import target_logp, token_logp
from src.objectives.base import reduce_losses
from src.utils.compute import TokenLedger


class Evaluator(Protocol):
    """What the module asks of an evaluator (see src/evaluation/math_evaluator.py)."""

    def start(self) -> None: ...
    def step(self, module: "LanguageModelModule", batch: dict, batch_idx: int, dataloader_idx: int) -> None: ...
    def finish(self, module: "LanguageModelModule") -> tuple[dict, list[dict]]: ...


class Rollout(Protocol):
    """On-policy glue for objectives that learn from the model's own samples (see src/rollouts/)."""

    def prepare(self, module: "LanguageModelModule", batch: dict) -> dict: ...  # the batch the objective sees
    # optional: def score(self, module, batch) -> Tensor  — log p̂ for the refill rule instead of teacher forcing


class LanguageModelModule(pl.LightningModule):
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, objective: Any,
                 optimizer: Callable, scheduler: Callable | None, examples_per_step: int,
                 evaluator: Evaluator, rollout: Rollout | None = None):
        super().__init__()
        self.model, self.tokenizer, self.objective = model, tokenizer, objective
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.examples_per_step = examples_per_step  # the nominal micro-batch size (loss normaliser)
        self.evaluator = evaluator
        self.rollout = rollout  # None: the objective learns from the batch as it comes
        self.last_evaluation: dict | None = None  # read by the run recorder after each validation
        self._phase_started: float | None = None  # when this epoch's training, then evaluation, began
        self._training_seconds: float | None = None
        self.compute = TokenLedger()  # tokens spent: rollouts add what they sample, training_step what it trains

    # -- training ---------------------------------------------------------------------------------
    def training_step(self, batch: dict, batch_idx: int) -> dict:
        if self.rollout is not None:
            batch = self.rollout.prepare(self, batch)
        per_token = getattr(self.objective, "per_token", False)  # e.g. GRPO's token-level ratios
        out = self.objective((token_logp if per_token else target_logp)(self.model, batch), batch)
        loss = reduce_losses(out.losses, self.examples_per_step)
        self.log("epoch", float(self.epoch_number), batch_size=len(out.logp))
        self.compute.trained += int(batch["attention_mask"].sum())
        self.log_dict({
            "train/loss": loss, "train/logp": out.logp.mean().float(),
            "train/factor": out.factor.mean().float(), "train/kept": out.kept.float().mean(),
            **{f"train/{name}": value.float() for name, value in out.metrics.items()},
        }, prog_bar=True, batch_size=len(out.logp))
        self.log_dict({f"compute/{name}": float(value) for name, value in self.compute.as_dict().items()},
                      batch_size=len(out.logp))
        return {"loss": loss, "logp": out.logp, "index": batch["index"]}

    @torch.no_grad()
    def score(self, batch: dict) -> torch.Tensor:
        """log p̂ of each example under the current weights, without gradients (refill rule):
        teacher-forced, or the rollout's own estimate when it has one (DCO_a: the sampled pass rate)."""
        if hasattr(self.rollout, "score"):
            return self.rollout.score(self, batch)
        self.compute.scored += int(batch["attention_mask"].sum())
        return target_logp(self.model, batch).double()

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.model.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # -- resumability: RNG streams travel with the checkpoint ---------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["rng_states"] = rng_states()
        checkpoint["compute"] = self.compute.state_dict()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "rng_states" in checkpoint:
            set_rng_states(checkpoint["rng_states"])
        if "compute" in checkpoint:
            self.compute.load_state_dict(checkpoint["compute"])

    # -- evaluation: delegated ------------------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        self._phase_started = time.perf_counter()

    def on_validation_epoch_start(self) -> None:
        # validation runs at the end of the training epoch: what elapsed since its start was training
        started = self._phase_started
        self._training_seconds = None if started is None else time.perf_counter() - started
        self._phase_started = time.perf_counter()
        self.evaluator.start()

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.evaluator.step(self, batch, batch_idx, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        metrics, rows = self.evaluator.finish(self)
        seconds = metrics.pop("seconds", {})  # the evaluator's phases (sampling, grading, coverage, …)
        metrics = {"epoch": self.epoch_number, "step": self.global_step, **metrics, "seconds": {
            "training": round(self._training_seconds or 0.0, 3),
            "evaluation": round(time.perf_counter() - self._phase_started, 3), **seconds},
            "compute": self.spent_tokens()}
        self.last_evaluation = {"metrics": metrics, "rows": rows}
        self.log_dict({"epoch": float(self.epoch_number), **flatten(metrics, skip=("epoch", "step"))},
                      batch_size=max(1, len(rows)))

    @property
    def epoch_number(self) -> int:
        """The one epoch convention of every file a run writes (metrics.csv, metrics.jsonl,
        eval/epoch_NNN.jsonl, W&B): while fitting, the 1-based number of the epoch under way, so the
        evaluation after the k-th epoch is epoch k, as are its training steps; outside fitting
        (`trainer.validate`: src.evaluate) 0, no training."""
        return self.current_epoch + 1 if self.trainer.state.fn == "fit" else 0


    def spent_tokens(self) -> dict[str, int]:
        """The ledger summed over ranks (every rank evaluates, so every rank takes part)."""
        counts = self.compute.as_dict()
        totals = self.trainer.strategy.reduce(torch.tensor(list(counts.values()), dtype=torch.float64,
                                                            device=self.device), reduce_op="sum")
        return {name: int(total) for name, total in zip(counts, totals.tolist())}


def flatten(tree: dict, prefix: str = "", skip: tuple = ()) -> dict[str, float]:
    """{"test": {"coverage": {"16": x}}} → {"test/coverage@16": x} for loggers."""
    flat = {}
    for key, value in tree.items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + ("@" if key in ("coverage", "pass", "class_coverage") else "/")))
        elif isinstance(value, (int, float)):
            flat[name] = float(value)
    return flat


def rng_states() -> dict:
    """Python, NumPy and torch RNG states as plain types and tensors (loadable with weights_only=True)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {"python": random.getstate(), "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
