"""Lightning callbacks that connect the trainer to the refill sampler, the run folder and W&B
(composed in conf/callbacks/; W&B media in conf/logger/wandb.yaml)."""
from __future__ import annotations

import logging
import math

import lightning.pytorch as pl
from lightning.pytorch.utilities import rank_zero_only

from src.data.refill import Refill
from src.data.resumable import ResumableDataLoader
from src.figures.run_curves import draw_run_curves
from src.models.export import save_pretrained_atomically
from src.utils.distributed import parameters_are_sharded
from src.utils.io import append_jsonl, atomic_write_jsonl
from src.utils.run_dir import RunDir

log = logging.getLogger(__name__)


class RefillCallback(pl.Callback):
    """Plugs the objective's threshold rule and the model's scorer into the refill sampler, whose
    `refill` mode (src/data/refill.py) says what the loop must do for it."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        datamodule = trainer.datamodule
        sampler = getattr(datamodule, "train_sampler", None)
        if sampler is None:
            return
        rollout = pl_module.rollout
        if rollout is not None and sampler.refill not in getattr(rollout, "refill_modes", list(Refill)):
            raise ValueError(f"{type(rollout).__name__} works with data.refill in "
                             f"{[mode.value for mode in rollout.refill_modes]}, got {sampler.refill.value!r}")
        keeps = getattr(pl_module.objective, "keeps", None)
        if sampler.refill.active and keeps is None:  # nothing can be dropped, so nothing is refilled
            log.info("objective %s has no threshold rule: data.refill=%s serves plain batches",
                     pl_module.objective.name, sampler.refill.value)
            sampler.refill = Refill.OFF
        sampler.keeps = keeps
        if sampler.refill.active:  # the ε-rule is applied once: where the sampler decides
            pl_module.objective.leave_threshold_to_sampler()
        sampler.scorer = lambda indices: pl_module.score(
            pl_module.transfer_batch_to_device(datamodule.collate_indices(indices), pl_module.device, 0))

    def on_fit_start(self, trainer, pl_module) -> None:
        sampler = getattr(trainer.datamodule, "train_sampler", None)
        if sampler is not None and sampler.refill.scores_candidates and parameters_are_sharded(pl_module):
            raise ValueError("data.refill=exact scores candidates outside the training step, which sharded "
                             "parameters (FSDP, DeepSpeed ZeRO-3) do not allow; use data.refill=cached")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        sampler = trainer.datamodule.train_sampler
        if sampler is not None and sampler.refill.records_trained_logp:
            sampler.record(outputs["index"].tolist(), outputs["logp"])

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        sampler = trainer.datamodule.train_sampler
        if sampler is not None and sampler.refill.active:
            scored = max(1, sampler.counts["scored"])
            pl_module.log_dict({"refill/dropped": float(sampler.counts["dropped"]),
                                "refill/dropped_fraction": sampler.counts["dropped"] / scored,
                                "refill/carried": float(len(sampler.carry))})


class TakeTrainingBatches(pl.Callback):
    """Tells the training loader's sampler each batch the trainer takes for a step, so a checkpoint
    written mid-epoch knows which drawn batches were not trained yet (src/data/resumable.py)."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        loader = trainer.train_dataloader
        if isinstance(loader, ResumableDataLoader):
            loader.batch_sampler.take()


class Diverged(Exception):
    pass


class StopOnNonFinite(pl.Callback):
    """Stops training at the first step whose loss is NaN or inf (the run is then `diverged`)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is not None and not math.isfinite(float(loss)):
            raise Diverged(f"training loss is {float(loss)} at step {trainer.global_step} "
                           f"(epoch {trainer.current_epoch + 1}, batch {batch_idx})")


class RunRecorder(pl.Callback):
    """Writes each epoch's evaluation to the run folder (atomically) and redraws the run's curves
    (the run's status is decided by src/run/train.py when the loop ends)."""

    def __init__(self, run_dir: str):
        self.run = RunDir(run_dir)

    @rank_zero_only
    def on_validation_end(self, trainer, pl_module) -> None:
        evaluation = pl_module.last_evaluation
        if trainer.sanity_checking or evaluation is None:
            return
        metrics = evaluation["metrics"]
        # rows first: a metrics line only ever points at rows that exist
        atomic_write_jsonl(self.run.eval_rows_file(metrics["epoch"]), evaluation["rows"])
        done = {m["epoch"] for m in self.run.metrics()}
        if metrics["epoch"] not in done:  # a resumed run re-validating an epoch keeps the first line
            append_jsonl(self.run.metrics_file, metrics)
        pl_module.last_evaluation = None
        draw_run_curves(self.run)
        print(format_epoch(metrics))


def format_epoch(metrics: dict) -> str:
    test = metrics["test"]
    if "coverage" not in test:  # another evaluator (e.g. proof search): its scalar test metrics
        return f"[epoch {metrics['epoch']}] " + " ".join(
            f"{k} {v:.3f}" for k, v in test.items() if isinstance(v, (int, float)))
    cov = " ".join(f"{n}:{v:.3f}" for n, v in test["coverage"].items())
    line = f"[epoch {metrics['epoch']}] coverage {cov}"
    if "pass" in test:
        line += " | sampled " + " ".join(f"{k}:{v:.3f}" for k, v in test["pass"].items())
    if "greedy_accuracy" in test:
        line += f" | greedy acc {test['greedy_accuracy']:.3f}"
    if "greedy" in test:
        line += (f" | p̂>0.5 {test['greedy']['confident_fraction']:.3f}"
                 f" (wrong {test['greedy']['confident_wrong_fraction']:.3f})")
    if "train" in metrics:
        line += f" | train pass@1 {metrics['train']['coverage'].get('1', float('nan')):.3f}"
    seconds = metrics.get("seconds", {})
    if seconds.get("training"):
        line += f" | {seconds['evaluation']:.0f} s evaluation / {seconds['training']:.0f} s training"
    return line


class WandbMedia(pl.Callback):
    """Per epoch, to W&B: the pass@N table, the greedy-confidence histogram and the run's figures."""

    def __init__(self, run_dir: str):
        self.run = RunDir(run_dir)

    @rank_zero_only
    def on_validation_end(self, trainer, pl_module) -> None:
        import wandb

        metrics = self.run.metrics()
        if trainer.sanity_checking or not metrics:
            return
        experiment, epoch = trainer.logger.experiment, metrics[-1]["epoch"]
        media = {"epoch": epoch}
        if "coverage" in metrics[-1]["test"]:  # MATH runs; other evaluators log their figures only
            ns = list(metrics[-1]["test"]["coverage"])
            data = [[m["epoch"], *[m["test"]["coverage"][n] for n in ns]] for m in metrics]
            media["pass_at_n"] = wandb.Table(columns=["epoch", *[f"pass@{n}" for n in ns]], data=data)
        rows = self.run.eval_rows(epoch) if self.run.eval_rows_file(epoch).exists() else []
        if rows and "greedy_logp" in rows[0]:
            media["greedy_logp"] = wandb.Histogram([r["greedy_logp"] for r in rows])
        media.update({f"curves/{p.stem}": wandb.Image(str(p)) for p in sorted(self.run.curves.glob("*.png"))})
        experiment.log(media)


class ExportModel(pl.Callback):
    """When training ends, the final model and tokenizer as a Hugging Face folder, `<run>/model/`
    (written whole, then renamed), so `AutoModelForCausalLM.from_pretrained(<run>/model)` and
    `python -m src.evaluate model.pretrained=<run>` open it. Sharded weights (FSDP) are gathered
    through the strategy first; every rank takes part, rank 0 writes."""

    def __init__(self, run_dir: str):
        self.run = RunDir(run_dir)

    def on_fit_end(self, trainer, pl_module) -> None:
        if trainer.interrupted or trainer.fast_dev_run:  # like Lightning's checkpoints: no half-trained exports
            return
        state = None
        if parameters_are_sharded(pl_module):
            if any(hasattr(p, "ds_id") for p in pl_module.parameters()):
                log.warning("DeepSpeed ZeRO-3 holds partitioned weights: no %s; convert checkpoints/ with "
                            "DeepSpeed's zero_to_fp32.py instead", self.run.model)
                return
            state = {key.removeprefix("model."): value
                     for key, value in trainer.strategy.lightning_module_state_dict().items()}  # a collective
        if trainer.is_global_zero:
            save_pretrained_atomically(pl_module.model, pl_module.tokenizer, self.run.model, state_dict=state)
            log.info("model and tokenizer saved to %s", self.run.model)
        trainer.strategy.barrier("export_model")
