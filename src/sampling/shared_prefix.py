"""Decoding n samples per prompt while the prompt's keys and values are stored once.

After the prompts are prefilled (one row each), every decoding step attends over two parts: the
prompt's cache, shared by the prompt's n samples (P rows), and the sample's own new tokens (P·n rows,
written in place into buffers sized for `max_new_tokens`). Both score blocks enter one softmax, so the
result is exact attention over prompt + completion — without copying the prompt cache once per sample
(HF `generate(num_return_sequences=n)` and `DynamicCache.batch_repeat_interleave`) and without growing
the cache by concatenation at every step (`DynamicCache`, which copies the whole cache per token).

It plugs into any Hugging Face model that dispatches attention through `AttentionInterface`
(`_supports_attention_backend`: Llama, Qwen2, Mistral, …) — the model code is not touched: during
decoding the model's attention implementation is switched to `shared_prefix_attention`, which reads
this step's state from the forward's keyword `shared_prefix`. Other models use the plain cache path.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from transformers import PreTrainedModel

try:
    from transformers import AttentionInterface
except ImportError:  # transformers < 4.48: every model takes the plain cache path
    AttentionInterface = None

NAME = "shared_prefix"


def supports_shared_prefix(model: PreTrainedModel) -> bool:
    return AttentionInterface is not None and bool(getattr(model, "_supports_attention_backend", False))


def cached_keys_values(cache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(keys, values) per layer of a prefilled HF cache, in either cache layout of transformers."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))


class SharedPrefixState:
    """The prompts' keys/values (one row per prompt) and each sample's own keys/values so far."""

    def __init__(self, prefix: list[tuple[torch.Tensor, torch.Tensor]], prompt_mask: torch.Tensor,
                 n: int, max_new_tokens: int):
        self.prefix, self.n = prefix, n
        keys = prefix[0][0]
        rows, kv_heads, _, head_dim = keys.shape
        shape = (rows * n, kv_heads, max_new_tokens, head_dim)
        self.keys = [torch.empty(shape, dtype=k.dtype, device=k.device) for k, _ in prefix]
        self.values = [torch.empty(shape, dtype=v.dtype, device=v.device) for _, v in prefix]
        self.length = [0] * len(prefix)
        # additive bias that hides the prompts' left padding: (P, 1, 1, prompt length)
        self.prefix_bias = torch.zeros(prompt_mask.shape, dtype=keys.dtype, device=keys.device).masked_fill(
            ~prompt_mask.bool(), torch.finfo(keys.dtype).min)[:, None, None, :]

    def keep(self, prompts: torch.Tensor) -> None:
        """Go on with the prompts where the boolean `prompts` (P,) is true (and their n samples) only."""
        rows = prompts.repeat_interleave(self.n)
        self.prefix = [(k[prompts], v[prompts]) for k, v in self.prefix]
        self.keys = [k[rows] for k in self.keys]
        self.values = [v[rows] for v in self.values]
        self.prefix_bias = self.prefix_bias[prompts]

    def append(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this step's key/value of `layer` (rows·n, kv heads, 1, d); the sample's so far."""
        t = self.length[layer]
        self.keys[layer][:, :, t:t + 1] = key
        self.values[layer][:, :, t:t + 1] = value
        self.length[layer] = t + 1
        return self.keys[layer][:, :, :t + 1], self.values[layer][:, :, :t + 1]


def shared_prefix_attention(module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                            attention_mask, scaling: float, dropout: float = 0.0,
                            shared_prefix: SharedPrefixState | None = None, **kwargs):
    """Attention of one new token per row over [shared prompt | own completion]; `attention_mask`
    is unused (the prompt padding is in the state). Returns (rows, 1, heads, d) like HF's functions."""
    state = shared_prefix
    rows, heads, _, d = query.shape
    prefix_k, prefix_v = state.prefix[module.layer_idx]
    prompts, kv_heads, prompt_len, _ = prefix_k.shape
    n, groups = state.n, heads // kv_heads
    own_k, own_v = state.append(module.layer_idx, key, value)  # (rows, kv heads, t, d)

    q = query.reshape(prompts, n, kv_heads, groups, d)
    # prompt part: a prompt's n samples (and the heads sharing a kv head) are one batch of queries
    q_prompt = q.permute(0, 2, 1, 3, 4).reshape(prompts, kv_heads, n * groups, d)
    prompt_scores = (q_prompt @ prefix_k.transpose(-1, -2)) * scaling + state.prefix_bias
    prompt_scores = prompt_scores.view(prompts, kv_heads, n, groups, prompt_len).transpose(1, 2)
    prompt_scores = prompt_scores.reshape(rows, kv_heads, groups, prompt_len)
    # completion part: each row's own tokens
    q_own = q.reshape(rows, kv_heads, groups, d)
    own_scores = (q_own @ own_k.transpose(-1, -2)) * scaling
    weights = torch.cat([prompt_scores, own_scores], dim=-1).softmax(-1, dtype=torch.float32).to(query.dtype)
    prompt_w, own_w = weights[..., :prompt_len], weights[..., prompt_len:]

    prompt_w = prompt_w.view(prompts, n, kv_heads, groups, prompt_len).transpose(1, 2)
    prompt_out = prompt_w.reshape(prompts, kv_heads, n * groups, prompt_len) @ prefix_v
    prompt_out = prompt_out.view(prompts, kv_heads, n, groups, d).transpose(1, 2).reshape(rows, kv_heads, groups, d)
    out = prompt_out + own_w @ own_v  # (rows, kv heads, groups, d)
    return out.reshape(rows, 1, heads, d), None


if AttentionInterface is not None:
    AttentionInterface.register(NAME, shared_prefix_attention)


@contextmanager
def attention_implementation(model: PreTrainedModel, name: str):
    """Run the model's attention layers with implementation `name` inside the block."""
    config = model.config
    before = config._attn_implementation
    config._attn_implementation = name
    try:
        yield
    finally:
        config._attn_implementation = before
