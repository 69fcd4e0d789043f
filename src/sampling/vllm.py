"""vLLM behind the sampler interface (`evaluation.sampling.backend=vllm`; `pip install -e .[vllm]`, CUDA GPU).

`HFSampler.sample`'s contract: left-padded prompt ids in, token ids of `n` completions per prompt out
(cut before EOS). The engine is built once per process and per setting, from the model's hub id or,
for a model trained from scratch, from the current weights saved to a temporary folder. Afterwards
the training weights are pushed into the engine whenever they changed since the last push (tensor
version counters, bumped by every in-place optimizer update), so evaluation and on-policy objectives
(DCO_a, GRPO) always sample from the current weights.

Parallelism: under DDP every training process runs its own engine on its own GPU over its share of
the problems (data parallel); `tensor_parallel_size` > 1 splits one engine over several GPUs, for an
evaluation process that owns them. Weight pushes assume the engine runs in this process
(`VLLM_ENABLE_V1_MULTIPROCESSING=0`, set here) with tensor_parallel_size = 1.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from src.sampling.config import SamplingConfig

ENGINE_DEFAULTS = {
    "tensor_parallel_size": 1,
    "gpu_memory_utilization": 0.3,  # colocated with training: leave the rest to the trainer
    "dtype": "bfloat16",
    "enable_prefix_caching": True,  # the n samples of a prompt share its KV cache
}
_engines: dict[tuple, Any] = {}  # one engine per (model, settings) for the life of the process


def import_vllm():
    try:
        import vllm
    except ImportError as error:
        raise ImportError("evaluation.sampling.backend=vllm needs vLLM and a CUDA GPU: pip install -e .[vllm] "
                          "(or use backend=hf, which runs anywhere)") from error
    return vllm


class VLLMSampler:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, config: SamplingConfig):
        self.vllm = import_vllm()
        self.model, self.tokenizer, self.config = model, tokenizer, config
        self.settings = {**ENGINE_DEFAULTS, **config.vllm}
        key = (id(model), repr(sorted(self.settings.items())))
        if key not in _engines:
            _engines[key] = _Engine(self.vllm, model, tokenizer, self.settings)
        self.engine = _engines[key]

    @torch.no_grad()
    def sample(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, n: int,
               greedy: bool = False) -> list[list[list[int]]]:
        """`n` completions per left-padded prompt, as token ids cut before EOS: [prompt][sample]."""
        self.engine.sync(self.model)
        eos = self.tokenizer.eos_token_id
        params = self.vllm.SamplingParams(
            n=n, temperature=0.0 if greedy else self.config.temperature, top_p=self.config.top_p,
            max_tokens=self.config.max_new_tokens, stop_token_ids=[eos], detokenize=False,
            seed=int(torch.randint(2**31 - 1, ())),  # drawn from torch's RNG: evaluation seeds stay in charge
        )
        prompts = [{"prompt_token_ids": ids[mask.bool()].tolist()} for ids, mask in zip(prompt_ids, prompt_mask)]
        outputs = self.engine.llm.generate(prompts, params, use_tqdm=False)
        return [[cut(list(c.token_ids), eos) for c in out.outputs] for out in outputs]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def push_weights(self) -> None:
        """Load the model's current weights into the engine now (sampling does it when they changed)."""
        self.engine.push(self.model)


def cut(seq: list[int], eos: int) -> list[int]:
    return seq[:seq.index(eos)] if eos in seq else seq


class _Engine:
    """One `vllm.LLM` and the weight version it holds."""

    def __init__(self, vllm, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, settings: dict):
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # in-process engine: weights can be pushed
        source, self._folder = model.config.name_or_path, None  # a hub id or folder, or "" (from scratch)
        if not source:  # the engine starts from the current weights, saved for it
            self._folder = tempfile.TemporaryDirectory(prefix="vllm_model_")
            model.save_pretrained(self._folder.name)
            tokenizer.save_pretrained(self._folder.name)
            source = self._folder.name
        self.llm = vllm.LLM(model=source, **settings)
        # loaded from the hub, the engine holds the checkpoint, not yet the (possibly trained) weights
        self.version = weight_version(model) if self._folder else None

    def sync(self, model: PreTrainedModel) -> None:
        if weight_version(model) != self.version:
            self.push(model)

    def push(self, model: PreTrainedModel) -> None:
        weights = list(model.state_dict().items())  # names as in a Hugging Face checkpoint
        if hasattr(self.llm, "apply_model"):  # vLLM ≥ 0.8
            self.llm.apply_model(lambda engine_model: engine_model.load_weights(weights))
        else:
            self.llm.llm_engine.model_executor.driver_worker.model_runner.model.load_weights(weights)
        self.version = weight_version(model)


def weight_version(model: torch.nn.Module) -> tuple[int, ...]:
    """Changes whenever a parameter is modified in place (each tensor's version counter)."""
    return tuple(p._version for p in model.parameters())
