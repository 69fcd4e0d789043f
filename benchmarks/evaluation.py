"""What evaluation costs, side by side in one run (issue #16's targets: evaluation ≤ 2× training per
epoch in the main job; the sampler ≥ 2× HF `generate` at 12 new tokens and ≥ 1.5× at 80).

1. The main job's first epochs (`python -m src.run experiment=math_passn trainer.max_epochs=2`, the
   same N list and samples per problem), run from each checkout given (`--checkouts . ../main`: after
   and before). Training and evaluation seconds per epoch come from benchmarks/phase_timer.py (a
   callback added by override, so any checkout can be timed), the parts from metrics.jsonl where the
   checkout records them.
2. The sampler against HF `generate(num_return_sequences=n)` on the same prompts, weights, n and
   token budget (the tiny Llama, random weights: rows rarely stop early, so both decode the budget),
   at 12 and 80 new tokens and on short and long prompts; `--before PATH/src/sampling/hf.py` adds
   another version of the sampler (e.g. main's) to the same table.

    python benchmarks/evaluation.py [--checkouts . ../main] [--objectives cross_entropy,dco]
                                    [--before ../main/src/sampling/hf.py] [--skip-main-job | --skip-sampler]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from src.data.math import format_direct  # noqa: E402
from tiny_task import untrained_sampling_task  # noqa: E402
from src.sampling import SamplingConfig  # noqa: E402
from src.sampling.hf import HFSampler  # noqa: E402



def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", nargs="+", default=["."], help="repository roots to time the main job in")
    parser.add_argument("--objectives", default="cross_entropy,dco")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--skip-main-job", action="store_true")
    parser.add_argument("--skip-sampler", action="store_true")
    parser.add_argument("--before", help="another src/sampling/hf.py to time beside this one")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


# ----------------------------------------------------------------------------- 1. the main job

def time_main_job(checkout: Path, objectives: str, epochs: int) -> list[dict]:
    """One row per run: seconds of training and of evaluation summed over `epochs` epochs, and the
    evaluation's parts where the checkout records them."""
    out = Path(tempfile.mkdtemp(prefix="eval_bench_"))
    cmd = [sys.executable, "-m", "src.run", "experiment=math_passn", f"trainer.max_epochs={epochs}",
           f"objective={objectives}", f"hydra.sweep.dir={out}",
           "+callbacks.timer._target_=phase_timer.PhaseTimer", "trainer.enable_progress_bar=false"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "benchmarks"),
                                                                     os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=checkout, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    rows = []
    for run in sorted(p.parent for p in out.glob("*/meta.json")):
        phases = [json.loads(line) for line in (run / "phase_seconds.jsonl").read_text().splitlines()]
        parts = [json.loads(line).get("seconds", {}) for line in (run / "metrics.jsonl").read_text().splitlines()]
        rows.append({"checkout": str(checkout), "run": run.name, "wall": wall,
                     **{k: sum(p[k] for p in phases) for k in ("training", "evaluation")},
                     **{k: sum(p.get(k, 0.0) for p in parts) for k in ("sampling", "grading", "coverage")}})
    return rows


# ----------------------------------------------------------------------------- 2. sampler vs generate

def load_sampler_class(path: str):
    spec = importlib.util.spec_from_file_location("before_hf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HFSampler


def sampler_vs_generate(args) -> list[tuple]:
    model, tokenizer, batch = untrained_sampling_task(format_direct, args.prompts)
    short_ids, short_mask = batch["prompt_ids"], batch["prompt_mask"]
    # long prompts: each short prompt behind a 96-token preamble of its own tokens
    pad = 96 - short_ids.shape[1]
    long_ids = torch.cat([short_ids[:, -1:].expand(-1, pad), short_ids], dim=1)
    long_mask = torch.cat([torch.ones_like(short_ids[:, :1]).expand(-1, pad), short_mask], dim=1)
    samplers = {"sampler": HFSampler}
    if args.before:
        samplers = {"sampler (before)": load_sampler_class(args.before), **samplers}
    results = []
    for prompts, (ids, mask) in (("short", (short_ids, short_mask)), ("long", (long_ids, long_mask))):
        for new_tokens in (12, 80):
            config = SamplingConfig(max_new_tokens=new_tokens, batch_size=args.prompts * args.samples)
            seconds = {}
            for name, cls in samplers.items():
                sampler = cls(model, tokenizer, config)
                sampler.sample(ids[:2], mask[:2], 2)  # warm-up
                start = time.perf_counter()
                sampler.sample(ids, mask, args.samples)
                seconds[name] = time.perf_counter() - start
            start = time.perf_counter()
            with torch.no_grad():
                model.generate(input_ids=ids, attention_mask=mask, do_sample=True, top_k=0, top_p=1.0,
                               temperature=1.0, num_return_sequences=args.samples, max_new_tokens=new_tokens,
                               pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            seconds["generate"] = time.perf_counter() - start
            results.append((f"{prompts} ({mask.sum(1).float().mean():.0f} tokens)", new_tokens, seconds))
    return results


def main() -> None:
    args = parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    torch.set_num_threads(args.threads)
    print(f"load average {os.getloadavg()[0]:.1f} on {len(os.sched_getaffinity(0))} cores, "
          f"{args.threads} torch thread(s)\n")
    if not args.skip_main_job:
        print(f"main job, first {args.epochs} epochs (seconds summed over them):")
        print(f"{'checkout':>14} {'run':>16} {'training':>9} {'evaluation':>11} {'sampling':>9} {'grading':>8} "
              f"{'coverage':>9} {'eval/train':>10} {'job wall':>9}")
        for checkout in args.checkouts:
            for r in time_main_job(Path(checkout).resolve(), args.objectives, args.epochs):
                print(f"{Path(r['checkout']).name:>14} {r['run']:>16} {r['training']:9.1f} {r['evaluation']:11.1f} "
                      f"{r['sampling']:9.1f} {r['grading']:8.1f} {r['coverage']:9.1f} "
                      f"{r['evaluation'] / r['training']:9.1f}× {r['wall']:9.0f}")
        print(f"load average now {os.getloadavg()[0]:.1f}\n")
    if args.skip_sampler:
        return
    print(f"sampling {args.prompts} prompts × {args.samples} samples, tiny Llama (random weights):")
    for prompts, new_tokens, seconds in sampler_vs_generate(args):
        ours = seconds["sampler"]
        cells = "  ".join(f"{name} {s:6.2f} s" for name, s in seconds.items())
        print(f"  {prompts:>18} prompts, {new_tokens:2d} new tokens:  {cells}   "
              f"generate / sampler {seconds['generate'] / ours:.2f}×")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
