"""Throughput of batched sampling (`HFSampler`: prompts × samples decoded together, each prompt's KV
cache prefilled once and shared by its samples) against drawing the same samples one at a time.

Same tiny Llama (conf/model/tiny.yaml, random weights, so nearly every sample runs to the token limit),
same built-in chain-of-thought prompts, same number of samples and tokens. Goal: ≥ 5× on CPU.

    python benchmarks/sampling.py [--prompts 4 --samples 16 --max-new-tokens 64 --threads 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import PeakMemory  # noqa: E402

from src.data.math import format_cot  # noqa: E402
from tiny_task import untrained_sampling_task  # noqa: E402
from src.sampling import SamplingConfig, make_sampler  # noqa: E402



def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--samples", type=int, default=16, help="samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (more than the free cores slows both loops down)")
    return parser.parse_args()


def timed(fn) -> tuple[float, list, float]:
    """(seconds, result, peak memory rise in MiB)."""
    with PeakMemory() as peak:
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
    return seconds, out, peak.mib


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer, batch = untrained_sampling_task(format_cot, args.prompts)
    sampler = make_sampler(model, tokenizer, SamplingConfig(max_new_tokens=args.max_new_tokens, batch_size=1024))
    ids, mask = batch["prompt_ids"], batch["prompt_mask"]

    sampler.sample(ids[:1], mask[:1], 2)  # warm-up
    batched_s, batched, batched_mib = timed(lambda: sampler.sample(ids, mask, args.samples))
    one_by_one_s, one_by_one, one_by_one_mib = timed(
        lambda: [[sampler.sample(ids[p:p + 1], mask[p:p + 1], 1)[0][0] for _ in range(args.samples)]
                 for p in range(len(ids))])

    def tokens(completions) -> int:
        return sum(len(c) for row in completions for c in row)

    sequences = args.prompts * args.samples
    print(f"tiny Llama ({sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters), "
          f"{args.prompts} prompts × {args.samples} samples, ≤ {args.max_new_tokens} new tokens, "
          f"{torch.get_num_threads()} CPU threads")
    for name, seconds, completions, mib in (("batched (HFSampler)", batched_s, batched, batched_mib),
                                            ("one sample at a time", one_by_one_s, one_by_one, one_by_one_mib)):
        print(f"{name:22s} {seconds:7.2f} s  {sequences / seconds:8.1f} samples/s  "
              f"{tokens(completions) / seconds:9.0f} tokens/s  peak memory +{mib:.0f} MiB")
    print(f"speed-up: {one_by_one_s / batched_s:.1f}×  (goal ≥ 5×)")


if __name__ == "__main__":
    main()
