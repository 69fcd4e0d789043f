"""Training throughput of the effective-batch rule: exact scoring against cached scores (and no rule).

DCO (N', ε) on the tiny direct-answer task after a short CE warm start, so some examples are already
confident. `exact` scores every candidate with a no-grad forward pass of the current weights (the
reference code's rule); `cached` reuses the log p̂ recorded when the example was last trained on (free,
but one epoch stale); `off` trains on every example. Each mode starts from the same weights and runs
the same number of epochs; throughput counts the examples trained on, scoring included.

    python benchmarks/refill.py [--train 1024 --batch 64 --epochs 2 --n 256 --threshold 0.1 --device cpu]
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import PeakMemory  # noqa: E402
from tiny_task import TinyTask, tiny_task  # noqa: E402

from src.data.refill import RefillBatchSampler  # noqa: E402
from src.models.logprobs import target_logp  # noqa: E402
from src.objectives import DCO, reduce_losses  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1024, help="training problems")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--warm-steps", type=int, default=150, help="CE steps before the timed epochs")
    parser.add_argument("--n", type=float, default=256, help="DCO budget N'")
    parser.add_argument("--threshold", type=float, default=0.1, help="ε: drop examples with F(N', p̂) ≤ ε")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return parser.parse_args()


def train_with_refill(task: TinyTask, objective: DCO, mode: str, epochs: int, batch_size: int) -> dict:
    sampler = RefillBatchSampler(len(task.train), batch_size, mode=mode, seed=2)
    sampler.keeps = objective.keeps
    sampler.scorer = lambda indices: score(task, indices)
    optimizer = torch.optim.AdamW(task.model.parameters(), lr=1e-3)
    trained = dropped = scored = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for indices in sampler:
            out = objective(target_logp(task.model, task.batch([task.train[i] for i in indices])))
            reduce_losses(out.losses, batch_size).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if mode == "cached":
                sampler.record(indices, out.logp)
            trained += len(indices)
        dropped, scored = dropped + sampler.counts["dropped"], scored + sampler.counts["scored"]
    seconds = time.perf_counter() - start
    return {"trained": trained, "seconds": seconds, "dropped": dropped / max(1, scored)}


@torch.no_grad()
def score(task: TinyTask, indices: list[int]) -> torch.Tensor:
    return target_logp(task.model, task.batch([task.train[i] for i in indices])).double()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    task = tiny_task(args.train, 8, args.device, warm_steps=args.warm_steps, batch_size=args.batch)
    warm = copy.deepcopy(task.model.state_dict())
    objective = DCO(n=args.n, threshold=args.threshold)
    print(f"tiny Llama ({sum(p.numel() for p in task.model.parameters()) / 1e6:.2f}M parameters), "
          f"{args.train} problems, batch {args.batch}, DCO N'={args.n:g} ε={args.threshold}, {args.epochs} epochs "
          f"after {args.warm_steps} CE steps, {args.device}"
          + (f", {torch.get_num_threads()} threads" if args.device == "cpu" else ""))
    results = {}
    for mode in ("cached", "exact", "off"):
        task.model.load_state_dict(warm)
        with PeakMemory(args.device) as peak:
            results[mode] = r = train_with_refill(task, objective, mode, args.epochs, args.batch)
        print(f"{mode:6s}  {r['trained'] / r['seconds']:7.1f} examples/s  {r['trained']:5d} trained in "
              f"{r['seconds']:6.1f} s  dropped {100 * r['dropped']:4.1f}%  peak memory +{peak.mib:.0f} MiB")
    speed = {m: r["trained"] / r["seconds"] for m, r in results.items()}
    print(f"exact / cached throughput = {speed['exact'] / speed['cached']:.2f}")


if __name__ == "__main__":
    main()
