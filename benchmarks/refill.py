"""Training throughput of the effective-batch rule: exact scoring against cached scores (and no rule).

DCO (N', ε) on the tiny direct-answer task after a short CE warm start, so some examples are already
confident. `exact` scores every candidate with a no-grad forward pass of the current weights (the
reference code's rule); `cached` reuses the log p̂ recorded when the example was last trained on (free,
but one epoch stale); `off` trains on every example. Each mode starts from the same weights; their
epochs are interleaved, so a busy machine slows all of them alike. Throughput counts the examples
trained on per second, scoring included.

    python benchmarks/refill.py [--train 512 --batch 32 --epochs 3 --n 4096 --threshold 0.1 --device cpu]
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

MODES = ("cached", "exact", "off")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=512, help="training problems")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--warm-steps", type=int, default=80, help="CE steps before the timed epochs")
    parser.add_argument("--n", type=float, default=4096,
                        help="DCO budget N' (large, so that the tiny model has confident examples to drop)")
    parser.add_argument("--threshold", type=float, default=0.1, help="ε: drop examples with F(N', p̂) ≤ ε")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return parser.parse_args()


class RefillRun:
    """One mode's model, optimizer and sampler, trained an epoch at a time."""

    def __init__(self, task: TinyTask, model: torch.nn.Module, objective: DCO, mode: str, batch_size: int):
        self.task, self.model, self.objective, self.mode = task, model, objective, mode
        self.batch_size = batch_size
        self.sampler = RefillBatchSampler(len(task.train), batch_size, mode=mode, seed=2)
        self.sampler.keeps = objective.keeps
        self.sampler.scorer = self.score
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        self.trained = self.scored = self.dropped = 0
        self.seconds = self.peak_mib = 0.0

    def batch(self, indices: list[int]) -> dict:
        return self.task.batch([self.task.train[i] for i in indices])

    @torch.no_grad()
    def score(self, indices: list[int]) -> torch.Tensor:
        return target_logp(self.model, self.batch(indices)).double()

    def epoch(self) -> None:
        start = time.perf_counter()
        with PeakMemory(self.task.device) as peak:
            for indices in self.sampler:
                out = self.objective(target_logp(self.model, self.batch(indices)))
                reduce_losses(out.losses, self.batch_size).backward()
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                if self.mode == "cached":
                    self.sampler.record(indices, out.logp)
                self.trained += len(indices)
        self.seconds += time.perf_counter() - start
        self.peak_mib = max(self.peak_mib, peak.mib)
        self.scored += self.sampler.counts["scored"]
        self.dropped += self.sampler.counts["dropped"]


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    task = tiny_task(args.train, 8, args.device, warm_steps=args.warm_steps, batch_size=args.batch,
                     width=args.width, layers=args.layers)
    objective = DCO(n=args.n, threshold=args.threshold)
    runs = {mode: RefillRun(task, copy.deepcopy(task.model), objective, mode, args.batch) for mode in MODES}
    for _ in range(args.epochs):
        for run in runs.values():
            run.epoch()

    print(f"tiny Llama ({sum(p.numel() for p in task.model.parameters()) / 1e6:.2f}M parameters), "
          f"{args.train} problems, batch {args.batch}, DCO N'={args.n:g} ε={args.threshold}, "
          f"{args.epochs} epochs after {args.warm_steps} CE steps, {args.device}"
          + (f", {torch.get_num_threads()} threads" if args.device == "cpu" else ""))
    for mode, run in runs.items():
        print(f"{mode:6s}  {run.trained / run.seconds:7.1f} examples/s  {run.trained:5d} trained in "
              f"{run.seconds:6.1f} s  dropped {100 * run.dropped / max(1, run.scored):4.1f}%  "
              f"peak memory +{run.peak_mib:.0f} MiB")
    speed = {mode: run.trained / run.seconds for mode, run in runs.items()}
    print(f"exact / cached throughput = {speed['exact'] / speed['cached']:.2f}")


if __name__ == "__main__":
    main()
