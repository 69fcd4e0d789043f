"""Per-epoch evaluation of a MATH model, as the LightningModule's pluggable evaluator.

For every held-out problem: log p̂ of the reference answer (teacher forced), the greedy completion
with its own log p̂, and `samples_per_problem` sampled completions, whose answers go to the grader
in the background while the next batch samples; after the epoch the last answers are graded and all
are summarised by `src.evaluation.summary.summarize`. For training problems (second validation
loader) only the reference log p̂ is computed, to watch memorisation. The metrics carry the epoch's
seconds of coverage (teacher forcing), sampling and grading (what the evaluation waited for).

Under data parallelism each rank evaluates its share of the problems; rows are keyed by example
index, gathered on rank 0 (repeats from padded shares collapse), graded and summarised there, and
the metrics are broadcast so every rank logs the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from src.evaluation.answer_class import completion_target, distinct_completions, score_targets
from src.evaluation.grading import Grader, prefetch, set_grading_workers
from src.evaluation.summary import ANSWER_FORMATS, extract_answer, grade_rows, summarize
from src.sampling import SamplingConfig, make_sampler
from src.models.logprobs import target_logp
from src.utils.distributed import broadcast_from_rank_zero, merge_on_rank_zero, rank_and_world
from src.utils.threads import grading_workers
from src.utils.timing import Stopwatch

TEST, TRAIN = 0, 1  # validation loaders: held-out problems, and a fixed subset of training problems


@dataclass
class EvaluationConfig:
    coverage_ns: list[int] = field(default_factory=lambda: [1, 4, 16, 64, 256, 1024, 4096])
    samples_per_problem: int = 64  # n for sampled pass@N; 0 turns sampling off
    pass_ks: list[int] = field(default_factory=lambda: [1, 4, 16, 64])
    greedy: bool = True
    answer_class: bool = True  # log p̂ of every distinct sampled completion (estimate c)
    answer_format: str = "direct"
    grader: str = "equivalent"  # equivalent (math-verify too) | strict (the reference code's rule): grading.py
    grading_timeout: float = 5.0
    grading_workers: int | str = "auto"  # math-verify processes (src/utils/threads.py)
    seed: int = 0

    def __post_init__(self):
        if self.answer_format not in ANSWER_FORMATS:
            raise ValueError(f"evaluation.answer_format={self.answer_format!r}; accepted: {list(ANSWER_FORMATS)}")
        self.grader = Grader.parse(self.grader)
        if any(n < 1 for n in self.coverage_ns):
            raise ValueError(f"evaluation.coverage_ns={self.coverage_ns}; every N must be ≥ 1")
        too_big = [k for k in self.pass_ks if k > self.samples_per_problem or k < 1]
        if self.samples_per_problem and too_big:
            raise ValueError(
                f"evaluation.pass_ks={self.pass_ks}: {too_big} outside [1, samples_per_problem="
                f"{self.samples_per_problem}]; pass@k needs at least k samples per problem")


class MathEvaluator:
    """`sampling` holds SamplingConfig's fields; every other keyword is an EvaluationConfig field."""

    def __init__(self, sampling: dict | None = None, **evaluation):
        self.config, self.sampling = EvaluationConfig(**evaluation), SamplingConfig(**(sampling or {}))
        self.rows: dict[int, dict[int, dict]] = {TEST: {}, TRAIN: {}}  # loader → example index → row
        self.watch = Stopwatch()
        set_grading_workers(grading_workers(self.config.grading_workers))

    def start(self) -> None:
        self.rows = {TEST: {}, TRAIN: {}}
        self.watch.take()

    @torch.no_grad()
    def step(self, module, batch: dict, batch_idx: int, dataloader_idx: int) -> None:
        with self.watch("coverage"):
            ref_logp = target_logp(module.model, batch).double().tolist()
        rows = [{"unique_id": u, "gold": g, "ref_logp": lp}
                for u, g, lp in zip(batch["unique_id"], batch["answer"], ref_logp)]
        if dataloader_idx == TEST:
            devices = [module.device] if module.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):  # sampling never shifts the training RNG
                torch.manual_seed(self.config.seed * 100_003 + module.current_epoch * 1009 + batch_idx)
                with self.watch("sampling"):
                    self._generate(module, batch, rows)
            if rank_and_world()[0] == 0:  # rank 0 grades; the others' answers reach it at the end
                with self.watch("grading"):
                    pairs = [(a, r["gold"]) for r in rows for a in [r.get("greedy_answer"), *r.get("samples", []),
                                                                     *(d[0] for d in r.get("distinct", []))]]
                    prefetch([a for a, _ in pairs], [g for _, g in pairs], self.config.grading_timeout,
                             self.config.grader)
        self.rows[dataloader_idx].update(zip(batch["index"].tolist(), rows))

    def _generate(self, module, batch: dict, rows: list[dict]) -> None:
        sampler = make_sampler(module.model, module.tokenizer, self.sampling)
        fmt, eos, budget = self.config.answer_format, module.tokenizer.eos_token_id, self.sampling.max_new_tokens
        if self.config.greedy:
            # log p̂ of what greedy decoding emitted: EOS only when it stopped on one
            greedy, greedy_logp = self._sample(module, sampler, batch, 1, greedy=True)
            for r, g, [lp] in zip(rows, greedy, greedy_logp):
                r["greedy_answer"] = extract_answer(sampler.decode(g[0]), fmt)
                r["greedy_logp"] = lp
                r["greedy_stopped"] = len(g[0]) < budget
        if self.config.samples_per_problem:
            samples, logps = self._sample(module, sampler, batch, self.config.samples_per_problem)
            references = [ids[m.bool()].tolist() for ids, m in zip(batch["input_ids"], batch["target_mask"])]
            for r, s, lp, ref in zip(rows, samples, logps, references):
                r["samples"] = [extract_answer(sampler.decode(ids), fmt) for ids in s]
                if self.config.answer_class:  # every distinct completion other than the reference, with its log p̂
                    targets, order = distinct_completions(s, eos, budget, ref)
                    first = {d: j for j, d in reversed(list(enumerate(order)))}  # a sample spelling each target
                    r["distinct"] = [[extract_answer(sampler.decode(t), fmt), lp[first[i]]]
                                     for i, t in enumerate(targets)]

    def _sample(self, module, sampler, batch: dict, n: int, greedy: bool = False) -> tuple[list, list]:
        """(completions, their log p̂) [prompt][sample]: read off the decoding when the sampler can
        (HFSampler), else teacher-forced by the training model (e.g. vLLM, whose engine may run in
        another precision), each distinct completion of a prompt once."""
        if hasattr(sampler, "sample_with_logp"):
            return sampler.sample_with_logp(batch["prompt_ids"], batch["prompt_mask"], n, greedy)
        completions = sampler.sample(batch["prompt_ids"], batch["prompt_mask"], n, greedy)
        eos, budget = module.tokenizer.eos_token_id, self.sampling.max_new_tokens
        prompts = [ids[m.bool()].tolist() for ids, m in zip(batch["prompt_ids"], batch["prompt_mask"])]
        pairs = [(b, tuple(completion_target(c, eos, budget))) for b, cs in enumerate(completions) for c in cs]
        unique = list(dict.fromkeys(pairs))
        scored = dict(zip(unique, score_targets(module, [prompts[b] for b, _ in unique], [t for _, t in unique],
                                                self.sampling.batch_size)))
        return completions, [[scored[pair] for pair in pairs[i * n:(i + 1) * n]] for i in range(len(completions))]

    def finish(self, module) -> tuple[dict, list[dict]]:
        """(metrics, per-problem rows of the held-out problems) for the epoch just evaluated; rows
        only on rank 0, the same metrics on every rank."""
        test_rows, train_rows = ([row for _, row in sorted(merge_on_rank_zero(self.rows[k]).items())]
                                 for k in (TEST, TRAIN))
        metrics = None
        if rank_and_world()[0] == 0:
            with self.watch("grading"):
                grade_rows(test_rows, self.config.grading_timeout, self.config.grader)
            c = self.config
            metrics = {"test": summarize(test_rows, c.coverage_ns, c.pass_ks)}
            if train_rows:
                metrics["train"] = summarize(train_rows, c.coverage_ns, c.pass_ks)
            metrics["seconds"] = self.watch.take()
        return broadcast_from_rank_zero(metrics), test_rows
