"""LanguageModelModule: a causal LM, a swappable objective, and per-epoch pass@N evaluation."""
from __future__ import annotations

from typing import Any, Callable

import lightning.pytorch as pl
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.data.tokenized import Example, collate
from src.evaluation.evaluator import EvaluationConfig, extract_answer, grade_rows, summarize
from src.evaluation.sampling import HFSampler, SamplingConfig
from src.models.logprobs import target_logp
from src.objectives.base import reduce_losses

TEST, TRAIN = 0, 1  # validation dataloaders: held-out problems, and a fixed subset of training problems


class LanguageModelModule(pl.LightningModule):
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, objective: Any,
                 optimizer: Callable, scheduler: Callable | None, examples_per_step: int,
                 evaluation: EvaluationConfig, sampling: SamplingConfig):
        super().__init__()
        self.model, self.tokenizer, self.objective = model, tokenizer, objective
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.examples_per_step = examples_per_step
        self.evaluation, self.sampler = evaluation, HFSampler(model, tokenizer, sampling)
        self._rows: dict[int, list[dict]] = {TEST: [], TRAIN: []}
        self.last_evaluation: dict | None = None  # read by the run recorder after each validation

    # -- training ---------------------------------------------------------------------------------
    def training_step(self, batch: dict, batch_idx: int) -> dict:
        out = self.objective(target_logp(self.model, batch), batch)
        loss = reduce_losses(out.losses, self.examples_per_step)
        n = len(out.logp)
        self.log_dict({
            "train/loss": loss, "train/logp": out.logp.mean().float(),
            "train/factor": out.factor.mean().float(), "train/kept": out.kept.float().mean(),
        }, prog_bar=True, batch_size=n)
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

    # -- evaluation ---------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self._rows = {TEST: [], TRAIN: []}

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = TEST) -> None:
        ref_logp = target_logp(self.model, batch).double().tolist()
        rows = [{"unique_id": u, "gold": g, "ref_logp": lp}
                for u, g, lp in zip(batch["unique_id"], batch["answer"], ref_logp)]
        if dataloader_idx == TEST:
            with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                torch.manual_seed(self.evaluation.seed * 100_003 + self.current_epoch * 1009 + batch_idx)
                self._generate(batch, rows)
        self._rows[dataloader_idx] += rows

    def _generate(self, batch: dict, rows: list[dict]) -> None:
        cfg, fmt = self.evaluation, self.evaluation.answer_format
        prompts = [ids[mask.bool()].tolist() for ids, mask in zip(batch["prompt_ids"], batch["prompt_mask"])]
        if cfg.greedy:
            greedy = self.sampler.sample(batch["prompt_ids"], batch["prompt_mask"], 1, greedy=True)
            eos = self.tokenizer.eos_token_id
            scored = collate([Example(i, p, g[0] + [eos]) for i, (p, g) in enumerate(zip(prompts, greedy))],
                             self.tokenizer.pad_token_id)
            greedy_logp = target_logp(self.model, self.transfer_batch_to_device(scored, self.device, 0))
            for r, g, lp in zip(rows, greedy, greedy_logp.double().tolist()):
                r["greedy_answer"] = extract_answer(self.sampler.decode(g[0]), fmt)
                r["greedy_logp"] = lp
        if cfg.samples_per_problem:
            samples = self.sampler.sample(batch["prompt_ids"], batch["prompt_mask"], cfg.samples_per_problem)
            for r, s in zip(rows, samples):
                r["samples"] = [extract_answer(self.sampler.decode(ids), fmt) for ids in s]

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        test_rows, train_rows = self._rows[TEST], self._rows[TRAIN]
        grade_rows(test_rows, self.evaluation)
        metrics = {"epoch": self.current_epoch + 1, "step": self.global_step,
                   "test": summarize(test_rows, self.evaluation)}
        if train_rows:
            metrics["train"] = summarize(train_rows, self.evaluation)
        self.last_evaluation = {"metrics": metrics, "rows": test_rows}
        self.log_dict(flatten(metrics, skip=("epoch", "step")), batch_size=max(1, len(test_rows)))


def flatten(tree: dict, prefix: str = "", skip: tuple = ()) -> dict[str, float]:
    """{"test": {"coverage": {"16": x}}} → {"test/coverage@16": x} for loggers."""
    flat = {}
    for key, value in tree.items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            joiner = "@" if key in ("coverage", "pass") else "/"
            flat.update(flatten(value, name + joiner, ()))
        else:
            flat[name] = float(value)
    return flat
