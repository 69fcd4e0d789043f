"""The small direct-answer task the benchmarks share: built-in MATH-style problems, a BPE trained on
them, the tiny Llama of conf/model/tiny.yaml (narrower by default, for 2 CPU cores), briefly trained
with cross-entropy so that its answers carry real probability (a random model's log p̂ sits near −30:
nothing would ever be dropped or sampled correctly).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import OmegaConf
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.data.math import format_direct
from src.data.refill import RefillBatchSampler
from src.data.synthetic import generate_math
from src.data.tokenized import Example, collate, tokenize_pairs
from src.models.factory import build_model
from src.models.logprobs import target_logp
from src.models.tokenizer import train_bpe_tokenizer
from src.objectives import CrossEntropy, reduce_losses

TINY = Path(__file__).resolve().parents[1] / "conf" / "model" / "tiny.yaml"
MAX_PROMPT_TOKENS, MAX_TARGET_TOKENS = 96, 16


@dataclass
class TinyTask:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    train: list[Example]
    test: list[Example]
    device: torch.device

    def batch(self, examples: list[Example]) -> dict:
        batch = collate(examples, self.tokenizer.pad_token_id)
        return {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def tiny_task(n_train: int, n_test: int, device: str = "cpu", warm_steps: int = 60, batch_size: int = 64,
              width: int = 64, layers: int = 2, seed: int = 0) -> TinyTask:
    torch.manual_seed(seed)
    train, test = generate_math(n_train=n_train, n_test=n_test, seed=seed)
    tokenizer = train_bpe_tokenizer([text for r in train for text in format_direct(r)], vocab_size=1024)
    architecture = {**OmegaConf.to_container(OmegaConf.load(TINY).architecture), "hidden_size": width,
                    "intermediate_size": 4 * width, "num_hidden_layers": layers,
                    "num_attention_heads": width // 32, "num_key_value_heads": width // 32}
    model = build_model(tokenizer, architecture=architecture).to(device)
    examples = [tokenize_pairs([format_direct(r) for r in split], tokenizer, MAX_PROMPT_TOKENS, MAX_TARGET_TOKENS)
                for split in (train, test)]
    task = TinyTask(model, tokenizer, *examples, torch.device(device))
    train_steps(task, CrossEntropy(), warm_steps, batch_size)
    return task


def train_steps(task: TinyTask, objective, steps: int, batch_size: int, lr: float = 1e-3) -> None:
    """Plain shuffled batches, AdamW: the warm start."""
    optimizer = torch.optim.AdamW(task.model.parameters(), lr=lr)
    sampler, done = RefillBatchSampler(len(task.train), batch_size, seed=1), 0
    while done < steps:
        for indices in sampler:
            out = objective(target_logp(task.model, task.batch([task.train[i] for i in indices])))
            reduce_losses(out.losses, batch_size).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            done += 1
            if done == steps:
                return


def untrained_sampling_task(format_record, n_prompts: int) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, dict]:
    """An untrained tiny Llama (conf/model/tiny.yaml), a BPE trained on 400 built-in problems in
    `format_record`'s format, and a `collate` batch of `n_prompts` held-out prompts: what the sampling
    benchmarks time."""
    torch.manual_seed(0)
    train, test = generate_math(n_train=400, n_test=n_prompts, seed=0)
    tokenizer = train_bpe_tokenizer([text for r in train for text in format_record(r)], vocab_size=1024)
    model = build_model(tokenizer, architecture=OmegaConf.to_container(OmegaConf.load(TINY).architecture)).eval()
    batch = collate(tokenize_pairs([format_record(r) for r in test], tokenizer, MAX_PROMPT_TOKENS, 8),
                    tokenizer.pad_token_id)
    return model, tokenizer, batch
