"""DCO_a's glue: p̂_a = the fraction of K samples from the current weights whose answer is right.

The refill sampler asks `score` for candidates (log p̂_a, so the objective's `keeps` can drop the easy
ones); the estimates wait here until their examples reach the training step, where `prepare` puts
them in the batch. For the first `warmup_steps` optimizer steps p̂_a := 0 without sampling (plain CE:
the model is still too weak for its samples to say anything, as in the reference code). Estimates
come from the weights when the batch was drawn, at most one step before it is trained on (Lightning
fetches one batch ahead).
"""
from __future__ import annotations

import math

import torch

from src.data.refill import Refill
from src.objectives.dco_approx import ESTIMATE_KEY
from src.rollouts.graded_samples import sample_and_grade
from src.sampling import SamplingConfig


class PassRateRollout:
    # data.refill=cached would judge p̂_a by the teacher-forced log p̂ of the last step
    refill_modes = (Refill.EXACT, Refill.OFF)

    def __init__(self, samples: int = 64, warmup_steps: int = 20, sampling: dict | None = None,
                 answer_format: str = "cot", grading_timeout: float = 5.0):
        if samples < 1 or warmup_steps < 0:
            raise ValueError(f"rollout: samples must be >= 1 and warmup_steps >= 0, got {samples}, {warmup_steps}")
        self.samples, self.warmup_steps = samples, warmup_steps
        self.sampling = SamplingConfig(**(sampling or {}))
        self.answer_format, self.grading_timeout = answer_format, grading_timeout
        self.estimates: dict[int, float] = {}  # example index → log p̂_a, from when it was last scored

    def estimate(self, module, batch: dict) -> torch.Tensor:
        """(B,) float64 log p̂_a under the current weights (−inf when no sample is right)."""
        if module.global_step < self.warmup_steps:
            return torch.full((len(batch["answer"]),), -math.inf, dtype=torch.float64)
        graded = sample_and_grade(module.model, module.tokenizer, batch, self.samples, self.sampling,
                                  self.answer_format, self.grading_timeout)
        module.compute.sampled += graded.sampled_tokens
        return graded.correct.double().mean(1).log()

    def score(self, module, batch: dict) -> torch.Tensor:
        """The refill rule's scorer: estimate, and remember the estimate for the training step."""
        logp_estimate = self.estimate(module, batch)
        self.estimates.update(zip(batch["index"].tolist(), logp_estimate.tolist()))
        return logp_estimate

    def prepare(self, module, batch: dict) -> dict:
        """The batch plus batch["logp_estimate"]: the refill scorer's estimates, or fresh ones."""
        indices = batch["index"].tolist()
        if all(i in self.estimates for i in indices):
            logp_estimate = torch.tensor([self.estimates.pop(i) for i in indices], dtype=torch.float64)
        else:  # data.refill=off: nothing was scored before the step
            logp_estimate = self.estimate(module, batch)
        return {**batch, ESTIMATE_KEY: logp_estimate.to(batch["index"].device)}
