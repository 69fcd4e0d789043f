"""GRPO's glue: G graded completions per prompt from the current weights, as a teacher-forcing batch.

The returned batch has one row per completion (prompt + completion, EOS appended when the model
stopped by itself), grouped prompt by prompt, with rewards (B, G) = 1 for a right final answer.
When the objective has a KL term, a frozen copy of the weights at the first step is kept as the
reference model and its token log-probs are added (ref_token_logp).
"""
from __future__ import annotations

import copy

import torch

from src.data.tokenized import Example, collate
from src.sampling import SamplingConfig
from src.models.logprobs import token_logp
from src.rollouts.graded_samples import sample_and_grade


class GroupRollout:
    def __init__(self, group_size: int = 8, sampling: dict | None = None, answer_format: str = "cot",
                 grading_timeout: float = 5.0, kl_coef: float = 0.0):
        if group_size < 2:
            raise ValueError(f"rollout.group_size must be >= 2 (advantages compare the samples of a prompt), "
                             f"got {group_size}")
        self.group_size = group_size
        self.sampling = SamplingConfig(**(sampling or {}))
        self.answer_format, self.grading_timeout = answer_format, grading_timeout
        self.keep_reference = kl_coef > 0  # the objective's β: a reference model is only needed for the KL term
        self.reference = None

    @torch.no_grad()
    def prepare(self, module, batch: dict) -> dict:
        graded = sample_and_grade(module.model, module.tokenizer, batch, self.group_size, self.sampling,
                                  self.answer_format, self.grading_timeout)
        module.compute.sampled += graded.sampled_tokens
        eos, limit = module.tokenizer.eos_token_id, self.sampling.max_new_tokens
        prompts = [ids[mask.bool()].tolist() for ids, mask in zip(batch["prompt_ids"], batch["prompt_mask"])]
        pairs = [(prompt, ids + [eos] if len(ids) < limit else ids)
                 for prompt, row in zip(prompts, graded.completions) for ids in row]
        rolled = collate([Example(i, prompt, target) for i, (prompt, target) in enumerate(pairs)],
                         module.tokenizer.pad_token_id)
        rolled = {key: value.to(module.device) if torch.is_tensor(value) else value for key, value in rolled.items()}
        rolled["index"] = batch["index"].repeat_interleave(self.group_size)
        rolled["rewards"] = graded.correct.to(module.device, torch.float64)
        rolled["global_step"] = module.global_step  # for objectives with a schedule (PKPO's annealed k)
        if self.keep_reference:
            rolled["ref_token_logp"] = token_logp(self.reference_model(module), rolled)
            module.compute.scored += int(rolled["attention_mask"].sum())
        return rolled

    def reference_model(self, module):
        """A frozen copy of the weights the first time it is asked for (the start of training)."""
        if self.reference is None:
            self.reference = copy.deepcopy(module.model).eval().requires_grad_(False)
        return self.reference
