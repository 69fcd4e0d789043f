"""A deterministic stand-in for a sampling backend: prompts' completions are written out in advance."""
from __future__ import annotations

from types import SimpleNamespace

import torch

from src.utils.compute import TokenLedger


class ScriptedSampler:
    """`script[key]` lists the completion texts of the prompt whose last token id is `key`; each text
    is one token id (its position in `texts`, offset past the special ids) and decodes back to itself."""

    FIRST_ID = 10

    def __init__(self, script: dict[int, list[str]]):
        self.script = script
        self.texts = sorted({text for texts in script.values() for text in texts})
        self.calls = 0

    def sample(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, n: int, greedy: bool = False):
        self.calls += 1
        return [[[self.FIRST_ID + self.texts.index(text)] for text in self.script[int(ids[-1])][:n]]
                for ids in prompt_ids]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.texts[i - self.FIRST_ID] for i in ids if i >= self.FIRST_ID)


def use_scripted_sampler(monkeypatch, script: dict[int, list[str]]) -> ScriptedSampler:
    """Make every rollout sample from `script` instead of a model."""
    sampler = ScriptedSampler(script)
    monkeypatch.setattr("src.rollouts.graded_samples.make_sampler", lambda model, tokenizer, config: sampler)
    return sampler


def prompt_batch(keys: list[int], answers: list[str], indices: list[int] | None = None) -> dict:
    """A `collate`-shaped batch of one-token prompts (the token is the script key)."""
    return {
        "index": torch.tensor(indices if indices is not None else list(range(len(keys)))),
        "prompt_ids": torch.tensor(keys)[:, None], "prompt_mask": torch.ones(len(keys), 1, dtype=torch.long),
        "answer": list(answers),
    }


def fake_module(global_step: int = 0, eos: int = 2, pad: int = 0) -> SimpleNamespace:
    """What a rollout reads from the LightningModule."""
    tokenizer = SimpleNamespace(eos_token_id=eos, pad_token_id=pad)
    return SimpleNamespace(model=None, tokenizer=tokenizer, global_step=global_step, device=torch.device("cpu"),
                           compute=TokenLedger())
