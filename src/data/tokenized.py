"""Prompt/target pairs → token ids → padded batches with a mask on the target tokens."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class Example:
    index: int
    prompt_ids: list[int]
    target_ids: list[int]
    unique_id: str = ""
    answer: str = ""  # the reference answer, for grading samples


def tokenize_pairs(pairs: Sequence[tuple[str, str]], tokenizer: PreTrainedTokenizerBase,
                   max_prompt_tokens: int, max_target_tokens: int) -> list[Example]:
    """BOS (if the tokenizer has one) + prompt (left-truncated: the question's end and the answer cue survive) → target + EOS."""
    prompts = tokenizer([p for p, _ in pairs], add_special_tokens=False).input_ids
    targets = tokenizer([t for _, t in pairs], add_special_tokens=False).input_ids
    bos = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]  # Qwen2.5 has no BOS
    return [
        Example(i, bos + p[-(max_prompt_tokens - len(bos)):], (t + [tokenizer.eos_token_id])[:max_target_tokens])
        for i, (p, t) in enumerate(zip(prompts, targets))
    ]


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded prompt+target for teacher forcing; left-padded prompts for generation.

    target_mask[b, t] = 1 where input_ids[b, t] is a target token (its log-prob enters log p̂).
    """
    full = [e.prompt_ids + e.target_ids for e in examples]
    width = max(map(len, full))
    input_ids = torch.full((len(full), width), pad_id)
    attention_mask = torch.zeros_like(input_ids)
    target_mask = torch.zeros_like(input_ids)
    for b, (e, ids) in enumerate(zip(examples, full)):
        input_ids[b, :len(ids)] = torch.tensor(ids)
        attention_mask[b, :len(ids)] = 1
        target_mask[b, len(e.prompt_ids):len(ids)] = 1
    prompt_width = max(len(e.prompt_ids) for e in examples)
    prompt_ids = torch.full((len(full), prompt_width), pad_id)
    prompt_mask = torch.zeros_like(prompt_ids)
    for b, e in enumerate(examples):
        prompt_ids[b, prompt_width - len(e.prompt_ids):] = torch.tensor(e.prompt_ids)
        prompt_mask[b, prompt_width - len(e.prompt_ids):] = 1
    return {
        "index": torch.tensor([e.index for e in examples]),
        "input_ids": input_ids, "attention_mask": attention_mask, "target_mask": target_mask,
        "prompt_ids": prompt_ids, "prompt_mask": prompt_mask,
        "unique_id": [e.unique_id for e in examples], "answer": [e.answer for e in examples],
    }
