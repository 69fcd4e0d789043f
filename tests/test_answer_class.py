"""The three pass@N estimates on a constructed model whose answer has two correct spellings, and the
greedy answer's log p̂ with EOS only when decoding produced it (issue #14, item 4)."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from src.data.tokenized import Example, collate
from src.evaluation.answer_class import class_logp, completion_target, distinct_completions
from src.evaluation.math_evaluator import MathEvaluator
from src.evaluation.summary import grade_rows, summarize
from src.sampling.hf import HFSampler

EOS, BUDGET = 1, 3


def test_eos_is_appended_only_when_decoding_stopped_before_the_budget():
    assert completion_target([5, 6], EOS, BUDGET) == [5, 6, EOS]
    assert completion_target([5, 6, 7], EOS, BUDGET) == [5, 6, 7]  # ran out of tokens: no EOS produced


def test_distinct_completions_drop_repeats_and_the_reference():
    samples = [[5], [6, 7], [5], [6, 7, 7], [8]]
    targets, order = distinct_completions(samples, EOS, BUDGET, reference=[5, EOS])
    assert targets == [[6, 7, EOS], [6, 7, 7], [8, EOS]]
    assert order == [-1, 0, -1, 1, 2]


def test_class_logp_adds_probabilities():
    assert class_logp(math.log(0.3), [math.log(0.2), math.log(0.1)]) == pytest.approx(math.log(0.6), rel=1e-12)
    assert class_logp(-math.inf, []) == -math.inf
    assert class_logp(math.log(0.7), [math.log(0.3000001)]) == 0.0  # rounding never exceeds 1


# A constructed model: four possible outputs per problem, three of them correct ("4", "4.0", and
# "4.00" cut at the token budget without EOS), the reference spelling is "4" (p = 0.3).
OUTPUTS = [([10], "4", 0.3), ([11, 12], "4.0", 0.2), ([11, 12, 12], "4.00", 0.1), ([13], "5", 0.4)]
P_CORRECT = 0.6


def constructed_rows(problems: int, samples: int, seed: int = 0) -> list[dict]:
    """The rows MathEvaluator writes, for completions drawn from the constructed model."""
    rng = np.random.default_rng(seed)
    logp_of = {tuple(completion_target(ids, EOS, BUDGET)): math.log(p) for ids, _, p in OUTPUTS}
    text_of = {tuple(ids): text for ids, text, _ in OUTPUTS}
    reference = completion_target(OUTPUTS[0][0], EOS, BUDGET)
    rows = []
    for _ in range(problems):
        drawn = [OUTPUTS[i][0] for i in rng.choice(len(OUTPUTS), samples, p=[p for *_, p in OUTPUTS])]
        targets, _ = distinct_completions(drawn, EOS, BUDGET, reference)
        rows.append({
            "gold": "4", "ref_logp": logp_of[tuple(reference)],
            "samples": [text_of[tuple(ids)] for ids in drawn],
            "distinct": [[text_of[tuple(t[:-1] if t[-1] == EOS else t)], logp_of[tuple(t)]] for t in targets],
        })
    return rows


def test_reference_le_class_le_true_coverage_and_sampled_agrees_with_class():
    ns = [1, 4, 16, 1024]
    rows = constructed_rows(problems=200, samples=32)
    grade_rows(rows, timeout=5.0)
    metrics = summarize(rows, ns, pass_ks=[1, 4])
    for n in map(str, ns):
        true = 1 - (1 - P_CORRECT) ** int(n)
        assert metrics["coverage"][n] == pytest.approx(1 - 0.7 ** int(n), rel=1e-12)  # (b): "4" only
        assert metrics["coverage"][n] <= metrics["class_coverage"][n] <= true + 1e-12
    # with 32 samples every spelling shows up in (almost) every problem, so (c) is the true probability
    assert metrics["class_coverage"]["1"] == pytest.approx(P_CORRECT, abs=0.01)
    assert metrics["class_coverage"]["1"] - metrics["coverage"]["1"] > 0.25  # the other spellings count
    # (a) is the sampled estimate of the same quantity: within sampling error of (c), inside its CI
    standard_error = math.sqrt(P_CORRECT * (1 - P_CORRECT) / (200 * 32))
    assert abs(metrics["pass"]["1"] - metrics["class_coverage"]["1"]) < 4 * standard_error
    low, high = metrics["pass_ci"]["1"]
    assert low <= metrics["class_coverage"]["1"] <= high
    true_4 = 1 - (1 - P_CORRECT) ** 4
    assert abs(metrics["pass"]["4"] - true_4) < 0.03


class WordTokenizer:
    eos_token_id, pad_token_id = EOS, 0

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(str(i) for i in ids if not (skip_special_tokens and i in (EOS, 0)))


def test_greedy_logp_has_eos_only_when_decoding_produced_it():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, bos_token_id=2, eos_token_id=EOS, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    batch = collate([Example(0, [2, 5, 6], [7, EOS], "p0", "7")], pad_id=0)
    with torch.no_grad():
        logits = model(input_ids=batch["prompt_ids"]).logits[0, -1].double()
    first = int(logits.argmax())
    assert first != EOS  # the constructed model does not stop at once
    module = SimpleNamespace(model=model, tokenizer=WordTokenizer(), device=torch.device("cpu"), current_epoch=0,
                             transfer_batch_to_device=lambda b, device, i: b)
    evaluator = MathEvaluator(sampling={"max_new_tokens": 1}, samples_per_problem=0, pass_ks=[],
                              coverage_ns=[1])
    evaluator.start()
    evaluator.step(module, batch, 0, 0)
    row = evaluator.rows[0][0]
    # one token of budget, not EOS: log p̂ of exactly that token, nothing appended
    assert row["greedy_stopped"] is False
    assert row["greedy_logp"] == pytest.approx(float(logits.log_softmax(-1)[first]), abs=1e-5)


def test_a_sampler_without_its_own_log_probs_is_teacher_forced_to_the_same_rows(monkeypatch):
    """The evaluator takes each sample's log p̂ from the sampler's decoding when it offers them
    (HFSampler.sample_with_logp) and teacher-forces them otherwise (vLLM): the rows agree."""
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, bos_token_id=2, eos_token_id=EOS, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    model.lm_head.weight.data[EOS] += 2.0  # some samples stop early, others run out of tokens
    batch = collate([Example(0, [2, 5, 6], [7, EOS], "p0", "7"), Example(1, [2, 9], [8, EOS], "p1", "8")], pad_id=0)
    module = SimpleNamespace(model=model, tokenizer=WordTokenizer(), device=torch.device("cpu"), current_epoch=0,
                             transfer_batch_to_device=lambda b, device, i: b)

    class SampleOnly:  # what a backend without `sample_with_logp` offers
        def __init__(self, model, tokenizer, config):
            self.inner = HFSampler(model, tokenizer, config)

        def sample(self, *args):
            return self.inner.sample(*args)

        def decode(self, ids):
            return self.inner.decode(ids)

    rows = []
    for backend in (HFSampler, SampleOnly):
        monkeypatch.setattr("src.evaluation.math_evaluator.make_sampler", backend)
        evaluator = MathEvaluator(sampling={"max_new_tokens": 4}, samples_per_problem=8, pass_ks=[1], coverage_ns=[1])
        evaluator.start()
        evaluator.step(module, batch, 0, 0)
        rows.append(evaluator.rows[0])
    decoded, forced = rows
    assert sum(len(decoded[i]["distinct"]) for i in (0, 1)) > 4  # real work: several distinct completions
    for i in (0, 1):
        assert decoded[i]["samples"] == forced[i]["samples"]
        assert [a for a, _ in decoded[i]["distinct"]] == [a for a, _ in forced[i]["distinct"]]
        assert [lp for _, lp in decoded[i]["distinct"]] == pytest.approx([lp for _, lp in forced[i]["distinct"]], abs=1e-4)
        assert decoded[i]["greedy_logp"] == pytest.approx(forced[i]["greedy_logp"], abs=1e-4)
