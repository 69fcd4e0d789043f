"""What every sampling backend is told: temperature, nucleus, length, batch, and backend settings."""
from __future__ import annotations

from dataclasses import dataclass, field

BACKENDS = ("hf", "vllm")


@dataclass
class SamplingConfig:
    backend: str = "hf"     # hf: HFSampler below; vllm: src.sampling.vllm (GPU, optional extra)
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 16
    batch_size: int = 1024  # sequences decoded together (prompts × samples)
    vllm: dict = field(default_factory=dict)  # backend=vllm: engine settings (src/sampling/vllm.py)

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"sampling.backend={self.backend!r}; accepted: {list(BACKENDS)}")
        if self.temperature < 0:
            raise ValueError(f"sampling.temperature={self.temperature}; must be ≥ 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"sampling.top_p={self.top_p}; must be in (0, 1]")
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise ValueError("sampling.max_new_tokens and sampling.batch_size must be ≥ 1")
