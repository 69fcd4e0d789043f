"""The vLLM sampler on a CUDA GPU: throughput against the batched HF sampler, agreement, weight pushes.

Both backends sample n completions per held-out problem of the tiny direct-answer task (after a short
CE warm start) through the same `sample` interface. Printed: samples/s of each, the exact-match rate
of each against the analytic p̂ (they estimate the same number), and whether a training step reaches
the engine (greedy answers before and after one push). Exits 0 with a SKIP line when vLLM or CUDA is absent.

    python benchmarks/vllm_sampler.py [--problems 32 --samples 256]
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_task import MAX_TARGET_TOKENS, tiny_task, train_steps  # noqa: E402

from src.sampling import SamplingConfig, make_sampler  # noqa: E402
from src.models.logprobs import target_logp  # noqa: E402
from src.objectives import CrossEntropy  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--samples", type=int, default=256, help="n per problem")
    parser.add_argument("--warm-steps", type=int, default=200)
    return parser.parse_args()


def timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start, out


def match_rate(samples, references) -> float:
    return sum(s == ref[:-1] for per, ref in zip(samples, references) for s in per) / sum(map(len, samples))


def main() -> None:
    if not torch.cuda.is_available() or importlib.util.find_spec("vllm") is None:
        print("SKIP: needs a CUDA GPU and vLLM (pip install -e .[vllm])")
        return
    args = parse_args()
    task = tiny_task(2048, args.problems, "cuda", warm_steps=args.warm_steps, batch_size=64, width=192, layers=3)
    model, batch = task.model.eval(), task.batch(task.test)
    references = [e.target_ids for e in task.test]
    with torch.no_grad():
        p_mean = target_logp(model, batch).exp().mean().item()
    config = dict(max_new_tokens=MAX_TARGET_TOKENS, batch_size=8192)
    samplers = {"hf": make_sampler(model, task.tokenizer, SamplingConfig(backend="hf", **config)),
                "vllm": make_sampler(model, task.tokenizer, SamplingConfig(backend="vllm", **config))}
    ids, mask, n = batch["prompt_ids"], batch["prompt_mask"], args.samples
    print(f"tiny Llama ({sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters), "
          f"{args.problems} problems × {n} samples, ≤ {MAX_TARGET_TOKENS} new tokens, {torch.cuda.get_device_name()}")
    print(f"analytic mean p̂ = {p_mean:.4f} (the exact-match rate both samplers estimate)")
    for name, sampler in samplers.items():
        sampler.sample(ids[:2], mask[:2], 2)  # warm-up (vLLM: engine start, weight push)
        seconds, samples = timed(lambda: sampler.sample(ids, mask, n))
        print(f"{name:5s} {seconds:7.2f} s  {args.problems * n / seconds:9.0f} samples/s  "
              f"exact-match rate {match_rate(samples, references):.4f}")

    greedy = lambda name: samplers[name].sample(ids, mask, 1, greedy=True)  # noqa: E731
    before = greedy("vllm")
    train_steps(task, CrossEntropy(), 20, 64)  # the weights move; the engine must follow
    hf_after, vllm_after = greedy("hf"), greedy("vllm")
    agree = sum(a == b for a, b in zip(hf_after, vllm_after)) / len(hf_after)
    changed = sum(a != b for a, b in zip(before, vllm_after)) / len(before)
    print(f"after 20 more training steps: vLLM greedy answers changed on {100 * changed:.0f}% of problems, "
          f"agree with HF greedy on {100 * agree:.0f}% (bf16 engine vs fp32 model)")


if __name__ == "__main__":
    main()
