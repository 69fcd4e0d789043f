"""LanguageModelModule: a causal LM, a swappable objective, and a pluggable per-epoch evaluator."""
from __future__ import annotations

from typing import Any, Callable, Protocol

import lightning.pytorch as pl
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.models.logprobs import target_logp
from src.objectives.base import reduce_losses


class Evaluator(Protocol):
    """What the module asks of an evaluator (see src/evaluation/math_evaluator.py)."""

    def start(self) -> None: ...
    def step(self, module: "LanguageModelModule", batch: dict, batch_idx: int, dataloader_idx: int) -> None: ...
    def finish(self, module: "LanguageModelModule") -> tuple[dict, list[dict]]: ...


class LanguageModelModule(pl.LightningModule):
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, objective: Any,
                 optimizer: Callable, scheduler: Callable | None, examples_per_step: int,
                 evaluator: Evaluator):
        super().__init__()
        self.model, self.tokenizer, self.objective = model, tokenizer, objective
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.examples_per_step = examples_per_step  # the nominal micro-batch size (loss normaliser)
        self.evaluator = evaluator
        self.last_evaluation: dict | None = None  # read by the run recorder after each validation

    # -- training ---------------------------------------------------------------------------------
    def training_step(self, batch: dict, batch_idx: int) -> dict:
        out = self.objective(target_logp(self.model, batch), batch)
        loss = reduce_losses(out.losses, self.examples_per_step)
        self.log_dict({
            "train/loss": loss, "train/logp": out.logp.mean().float(),
            "train/factor": out.factor.mean().float(), "train/kept": out.kept.float().mean(),
        }, prog_bar=True, batch_size=len(out.logp))
        return {"loss": loss, "logp": out.logp, "index": batch["index"]}

    @torch.no_grad()
    def score(self, batch: dict) -> torch.Tensor:
        """log p̂ of each example under the current weights, without gradients (refill rule)."""
        return target_logp(self.model, batch).double()

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.model.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # -- evaluation: delegated ------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self.evaluator.start()

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.evaluator.step(self, batch, batch_idx, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        metrics, rows = self.evaluator.finish(self)
        metrics = {"epoch": self.current_epoch + 1, "step": self.global_step, **metrics}
        self.last_evaluation = {"metrics": metrics, "rows": rows}
        self.log_dict(flatten(metrics, skip=("epoch", "step")), batch_size=max(1, len(rows)))


def flatten(tree: dict, prefix: str = "", skip: tuple = ()) -> dict[str, float]:
    """{"test": {"coverage": {"16": x}}} → {"test/coverage@16": x} for loggers."""
    flat = {}
    for key, value in tree.items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + ("@" if key in ("coverage", "pass") else "/")))
        elif isinstance(value, (int, float)):
            flat[name] = float(value)
    return flat
