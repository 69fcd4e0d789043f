"""The HF sampler: its draw follows the (temperature-scaled, nucleus-truncated) softmax exactly, and
the shared-prompt decoding path gives the same tokens as HF `generate` and as a plain repeated cache."""
from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import chi2

from src.sampling import SamplingConfig
from src.sampling.hf import HFSampler, inverse_cdf_draw, next_tokens


def test_inverse_cdf_draw_hits_exact_frequencies_on_a_uniform_grid():
    weights = torch.tensor([[0.0, 1.0, 3.0, 0.0, 4.0]])  # sums to 8; zero weights must never be drawn
    m = 8000
    uniform = (torch.arange(m, dtype=torch.float64) + 0.5) / m  # evenly spread u: counts are exact
    drawn = inverse_cdf_draw(weights.double().expand(m, -1), uniform)
    assert torch.bincount(drawn, minlength=5).tolist() == [0, 1000, 3000, 0, 4000]


def test_inverse_cdf_draw_at_the_edges_of_the_unit_interval():
    weights = torch.tensor([[0.0, 2.0, 0.0, 1.0, 0.0]])
    assert inverse_cdf_draw(weights, torch.tensor([0.0])).item() == 1
    assert inverse_cdf_draw(weights, torch.tensor([1 - 1e-7])).item() == 3  # never a trailing zero


def _reference_probabilities(logits: list[float], temperature: float, top_p: float) -> list[float]:
    """By hand: softmax at temperature T, then the smallest set of most likely tokens reaching top_p."""
    weights = [math.exp(x / temperature) for x in logits]
    probs = [w / sum(weights) for w in weights]
    kept, mass = set(), 0.0
    for i in sorted(range(len(probs)), key=lambda i: -probs[i]):
        if mass >= top_p:
            break
        kept.add(i)
        mass += probs[i]
    return [p / mass if i in kept else 0.0 for i, p in enumerate(probs)]


@pytest.mark.parametrize("temperature, top_p", [(1.0, 1.0), (0.7, 1.0), (1.3, 0.8)])
def test_next_tokens_follow_the_softmax_chi_square(temperature, top_p):
    logits = [2.0, 1.0, 0.5, 0.0, -1.0, -3.0, 1.5, 0.2]
    expected = torch.tensor(_reference_probabilities(logits, temperature, top_p), dtype=torch.float64)
    draws = 200_000
    torch.manual_seed(0)
    counts = torch.bincount(next_tokens(torch.tensor([logits]).expand(draws, -1), temperature, top_p),
                            minlength=len(logits)).double()
    assert counts[expected == 0].sum() == 0, "a token outside the nucleus was drawn"
    seen = expected > 0
    statistic = float(((counts[seen] - draws * expected[seen]) ** 2 / (draws * expected[seen])).sum())
    assert statistic < chi2.ppf(1 - 1e-6, int(seen.sum()) - 1), (counts / draws, expected)


def test_temperature_zero_is_argmax():
    logits = torch.tensor([[0.1, 3.0, 2.9], [5.0, -1.0, 4.0]])
    assert next_tokens(logits, 0.0, 1.0).tolist() == [1, 0]


@pytest.fixture(scope="module")
def tiny_lm():
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()

    class Tokenizer:
        eos_token_id, pad_token_id = 2, 0

    prompt_ids = torch.randint(3, 64, (3, 11))
    prompt_mask = torch.ones_like(prompt_ids)
    prompt_mask[1, :4] = 0  # left padding of different lengths
    prompt_mask[2, :7] = 0
    return model, Tokenizer(), prompt_ids.masked_fill(prompt_mask == 0, 0), prompt_mask


def test_shared_prompt_greedy_decoding_matches_hf_generate(tiny_lm):
    model, tokenizer, ids, mask = tiny_lm
    sampler = HFSampler(model, tokenizer, SamplingConfig(max_new_tokens=24))
    assert sampler.shared_prefix  # Llama dispatches attention through AttentionInterface
    ours = [row[0] for row in sampler.sample(ids, mask, 1, greedy=True)]
    generated = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=24,
                               pad_token_id=0, eos_token_id=2)[:, ids.shape[1]:].tolist()
    assert ours == [sampler._cut(row) for row in generated]


def test_shared_prompt_samples_equal_those_of_a_repeated_cache(tiny_lm):
    """Same seed, same draws: the shared-prompt attention and the per-sample copy of the prompt cache
    (the fallback path) give identical tokens, grouped query attention and left padding included."""
    model, tokenizer, ids, mask = tiny_lm
    shared = HFSampler(model, tokenizer, SamplingConfig(max_new_tokens=16))
    repeated = HFSampler(model, tokenizer, SamplingConfig(max_new_tokens=16))
    repeated.shared_prefix = False
    torch.manual_seed(3)
    a = shared.sample(ids, mask, 5)
    torch.manual_seed(3)
    b = repeated.sample(ids, mask, 5)
    assert a == b and len({tuple(s) for row in a for s in row}) > 3  # real, distinct samples


@pytest.mark.parametrize("shared_prefix, temperature", [(True, 1.0), (False, 1.0), (True, 0.7)])
def test_sampled_logp_equals_a_teacher_forced_forward_pass(tiny_lm, shared_prefix, temperature):
    """The log p̂ the sampler reads off its own decoding is the model's untempered log-probability of
    the emitted tokens (EOS counted when produced), as one plain forward pass over prompt + completion
    computes it."""
    model, tokenizer, ids, mask = tiny_lm
    sampler = HFSampler(model, tokenizer, SamplingConfig(max_new_tokens=6, temperature=temperature))
    sampler.shared_prefix = shared_prefix
    model.lm_head.weight.data[2] += 2.0  # EOS likely enough that some samples stop early, others run out
    try:
        torch.manual_seed(5)
        completions, logps = sampler.sample_with_logp(ids, mask, 8)
        stopped = 0
        for prompt, row_mask, row, row_logp in zip(ids, mask, completions, logps):
            prompt = prompt[row_mask.bool()].tolist()
            for tokens, logp in zip(row, row_logp):
                target = tokens + [2] if len(tokens) < 6 else tokens
                stopped += len(tokens) < 6
                full = torch.tensor([prompt + target])
                with torch.no_grad():
                    log_probs = model(input_ids=full).logits[0, len(prompt) - 1:-1].double().log_softmax(-1)
                expected = float(log_probs.gather(-1, torch.tensor(target)[:, None]).sum())
                assert logp == pytest.approx(expected, abs=1e-4)
        assert 0 < stopped < 24
    finally:
        model.lm_head.weight.data[2] -= 2.0


def test_prompts_whose_samples_all_ended_are_dropped_without_changing_any_draw(tiny_lm, monkeypatch):
    """With EOS likely, prompts finish at different steps: the shared-prefix path drops finished prompts
    from the batch (fewer rows per forward pass) and still gives the repeated-cache path's exact tokens
    and log p̂ (one uniform per original row at every step)."""
    model, tokenizer, ids, mask = tiny_lm
    forwarded_rows = []
    model.lm_head.weight.data[2] += 5.0
    hook = model.register_forward_pre_hook(lambda module, args, kwargs: forwarded_rows.append(
        len(kwargs["input_ids"])), with_kwargs=True)
    try:
        results = []
        for shared in (True, False):
            sampler = HFSampler(model, tokenizer, SamplingConfig(max_new_tokens=12))
            sampler.shared_prefix = shared
            forwarded_rows.clear()
            torch.manual_seed(11)
            results.append((sampler.sample_with_logp(ids, mask, 4), list(forwarded_rows)))
    finally:
        hook.remove()
        model.lm_head.weight.data[2] -= 5.0
    (shared_out, shared_rows), (repeated_out, repeated_rows) = results
    assert shared_out[0] == repeated_out[0]
    assert sum(shared_out[1], []) == pytest.approx(sum(repeated_out[1], []), abs=1e-5)
    lengths = [max(len(c) for c in row) for row in shared_out[0]]
    assert len(set(lengths)) > 1, "the prompts should end at different steps"
    assert set(repeated_rows[1:]) == {12} and min(shared_rows[1:]) < 12  # prefill is row 0; decoding steps follow
