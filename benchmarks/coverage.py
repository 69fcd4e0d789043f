"""Analytic coverage against sampled pass@N at n = 4096: cost, and agreement on exact-match answers.

For a fixed reference answer y, pass@N with exact-match grading is C_N = 1 − (1 − p̂(y|x))^N, which
one teacher-forced forward pass gives for every N at once. Sampling estimates the same quantity
from n completions (unbiased estimator), at n × (answer length) decoding steps. Both run on the tiny
direct-answer task after a short CE warm start; a completion matches when its tokens are the
reference's tokens up to EOS. Agreement is reported per problem as the z-score of the sampled
match rate c/n against p̂ (binomial standard error) and as mean coverage at several N.
Goal: analytic ≥ 100× cheaper than n = 4096 sampling.

    python benchmarks/coverage.py [--problems 4 --samples 4096 --device cpu]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import PeakMemory  # noqa: E402
from tiny_task import MAX_TARGET_TOKENS, tiny_task  # noqa: E402

from src.evaluation.passk import pass_at_k  # noqa: E402
from src.sampling import HFSampler, SamplingConfig  # noqa: E402
from src.models.logprobs import target_logp  # noqa: E402

NS = (1, 16, 256, 4096)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=4, help="held-out problems")
    parser.add_argument("--samples", type=int, default=4096, help="n, completions per problem")
    parser.add_argument("--train", type=int, default=512, help="training problems for the warm start")
    parser.add_argument("--warm-steps", type=int, default=120)
    parser.add_argument("--decode-batch", type=int, default=4096, help="sequences decoded together")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return parser.parse_args()


def timed(fn, reps: int = 1) -> tuple[float, object]:
    """Median seconds of `reps` calls, and the last result."""
    seconds = []
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    task = tiny_task(args.train, args.problems, args.device, warm_steps=args.warm_steps, batch_size=32)
    model = task.model.eval()
    batch = task.batch(task.test)
    references = [e.target_ids for e in task.test]
    if any(ref[-1] != task.tokenizer.eos_token_id for ref in references):
        raise SystemExit(f"a reference answer is longer than {MAX_TARGET_TOKENS} tokens; raise MAX_TARGET_TOKENS")

    with torch.no_grad(), PeakMemory(args.device) as analytic_memory:
        analytic_s, logp = timed(lambda: target_logp(model, batch).double().cpu(), reps=5)
    p = logp.exp().numpy()

    sampler = HFSampler(model, task.tokenizer, SamplingConfig(max_new_tokens=MAX_TARGET_TOKENS,
                                                              batch_size=args.decode_batch))
    torch.manual_seed(1)
    with PeakMemory(args.device) as sampled_memory:
        sampled_s, samples = timed(lambda: sampler.sample(batch["prompt_ids"], batch["prompt_mask"], args.samples))
    n = args.samples
    c = np.array([sum(s == ref[:-1] for s in per_problem) for per_problem, ref in zip(samples, references)])

    print(f"tiny Llama ({sum(q.numel() for q in model.parameters()) / 1e6:.2f}M parameters) after "
          f"{args.warm_steps} CE steps, {args.problems} held-out problems, n = {n} samples each, {args.device}"
          + (f", {torch.get_num_threads()} threads" if args.device == "cpu" else ""))
    print(f"analytic (1 teacher-forced pass): {1e3 * analytic_s:9.1f} ms   peak memory +{analytic_memory.mib:.0f} MiB")
    print(f"sampled  (n = {n}):            {1e3 * sampled_s:9.1f} ms   peak memory +{sampled_memory.mib:.0f} MiB")
    print(f"sampling / analytic time = {sampled_s / analytic_s:.0f}×  (goal ≥ 100×)")
    print("per problem: p̂ (analytic)  c/n (sampled)  z = (c/n − p̂) / √(p̂(1−p̂)/n)")
    z = [(ci / n - pi) / math.sqrt(max(pi * (1 - pi), 1e-300) / n) for pi, ci in zip(p, c)]
    for pi, ci, zi in zip(p, c, z):
        print(f"  {pi:10.5f}  {ci / n:10.5f}  {zi:+6.2f}")
    for big_n in NS:
        analytic = float(np.mean(1 - (1 - p) ** big_n))
        sampled = float(np.mean(pass_at_k(np.full_like(c, n), c, big_n)))
        print(f"pass@{big_n:<5d} analytic {analytic:.4f}   sampled {sampled:.4f}")
    print(f"max |z| = {max(abs(x) for x in z):.2f}  (|z| < 3 for every problem: agreement within sampling noise)")


if __name__ == "__main__":
    main()
