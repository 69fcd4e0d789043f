"""Forward + backward time of DCO against cross-entropy on a tiny Llama, same batch, interleaved.

DCO only rescales each sequence's gradient by F(N, p̂), computed from the log p̂ the forward pass
already produced, so it should cost no more than CE (goal: median ratio DCO/CE ≤ 1.05).

    python benchmarks/objectives.py [--layers 4 --width 256 --vocab 2000 --batch 32 --seq 64 --reps 10]
                                    [--device cuda --bf16]   (GPU: bf16 autocast over fp32 weights)
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, LlamaConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import PeakMemory  # noqa: E402

from src.objectives import DCO, CrossEntropy, reduce_losses, sequence_logp  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--n", type=float, default=256, help="DCO budget N")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--reps", type=int, default=10, help="timed repetitions of each objective")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (precision=bf16-mixed)")
    return parser.parse_args()


def tiny_llama(args: argparse.Namespace) -> torch.nn.Module:
    config = LlamaConfig(
        vocab_size=args.vocab,
        hidden_size=args.width,
        intermediate_size=4 * args.width,
        num_hidden_layers=args.layers,
        num_attention_heads=max(1, args.width // 64),
        max_position_embeddings=args.seq,
    )
    return AutoModelForCausalLM.from_config(config)


def step_seconds(model: torch.nn.Module, objective, input_ids: torch.Tensor, target_mask: torch.Tensor,
                 bf16: bool = False) -> float:
    """One forward + backward of objective on the batch; the second half of each row is the answer."""
    device = input_ids.device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    synchronize()
    start = time.perf_counter()
    with autocast:
        logits = model(input_ids=input_ids).logits[:, :-1].float()
    token_logp = logits.log_softmax(-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    losses = objective(sequence_logp(token_logp, target_mask[:, 1:])).losses
    reduce_losses(losses, examples_per_step=len(input_ids)).backward()
    model.zero_grad(set_to_none=True)
    synchronize()
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    torch.manual_seed(0)
    model = tiny_llama(args).to(args.device)
    input_ids = torch.randint(args.vocab, (args.batch, args.seq), device=args.device)
    target_mask = torch.zeros(args.batch, args.seq, device=args.device)
    target_mask[:, args.seq // 2 :] = 1
    objectives = {"ce": CrossEntropy(), "dco": DCO(n=args.n)}

    for _ in range(args.warmup):
        for objective in objectives.values():
            step_seconds(model, objective, input_ids, target_mask, args.bf16)
    times = {name: [] for name in objectives}
    for rep in range(args.reps):
        order = list(objectives) if rep % 2 == 0 else list(reversed(objectives))  # no fixed first mover
        for name in order:
            times[name].append(step_seconds(model, objectives[name], input_ids, target_mask, args.bf16))
    peak_mib = {}
    for name, objective in objectives.items():
        with PeakMemory(args.device) as peak:
            step_seconds(model, objective, input_ids, target_mask, args.bf16)
        peak_mib[name] = peak.mib

    ce, dco = statistics.median(times["ce"]), statistics.median(times["dco"])
    print(f"tiny Llama {args.layers}x{args.width}, vocab {args.vocab}, batch {args.batch}x{args.seq}, "
          f"{args.reps} interleaved reps (median), {args.device}{' bf16 autocast' if args.bf16 else ''}")
    print(f"CE : {1e3 * ce:8.1f} ms  peak memory +{peak_mib['ce']:.0f} MiB")
    print(f"DCO: {1e3 * dco:8.1f} ms  peak memory +{peak_mib['dco']:.0f} MiB  (N = {args.n:g})")
    print(f"DCO/CE = {dco / ce:.3f}")


if __name__ == "__main__":
    main()
