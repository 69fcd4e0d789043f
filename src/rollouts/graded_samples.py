"""Draw k completions per prompt from the current weights and grade their final answers."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from src.evaluation.grading import grade_many
from src.sampling import SamplingConfig, make_sampler
from src.evaluation.summary import extract_answer
from src.utils.compute import generated_tokens


@dataclass
class GradedSamples:
    completions: list[list[list[int]]]  # [prompt][sample] token ids, cut before EOS
    correct: torch.Tensor  # (prompts, k) bool: the sample's final answer `is_equivalent` to the reference
    sampled_tokens: int = 0  # tokens generated (src.utils.compute.generated_tokens)


@torch.no_grad()
def sample_and_grade(model, tokenizer, batch: dict, k: int, sampling: SamplingConfig,
                     answer_format: str, grading_timeout: float) -> GradedSamples:
    """`k` samples for each left-padded prompt of a `collate` batch, graded against batch["answer"]."""
    sampler = make_sampler(model, tokenizer, sampling)
    completions = sampler.sample(batch["prompt_ids"], batch["prompt_mask"], k)
    answers = [extract_answer(sampler.decode(ids), answer_format) or None for row in completions for ids in row]
    golds = [gold for gold in batch["answer"] for _ in range(k)]
    correct = torch.tensor(grade_many(answers, golds, grading_timeout)).view(len(completions), k)
    return GradedSamples(completions, correct, generated_tokens(completions, sampling.max_new_tokens))
