"""Prompt/target pairs → ids → batches: the loss mask covers exactly the target (and its EOS)."""
import pytest

from src.data.tokenized import collate, tokenize_pairs
from src.models.tokenizer import train_bpe_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(["Question: what is one plus one?\nAnswer: 2"] * 5, vocab_size=300)


def test_prompt_is_left_truncated_behind_bos_and_target_ends_with_eos(tokenizer):
    [example] = tokenize_pairs([("Question: what is one plus one?\nAnswer:", " 2")], tokenizer, 4, 8)
    tail = tokenizer("Question: what is one plus one?\nAnswer:", add_special_tokens=False).input_ids[-3:]
    assert example.prompt_ids == [tokenizer.bos_token_id] + tail
    assert example.target_ids[-1] == tokenizer.eos_token_id


def test_a_tokenizer_without_bos_gets_none_prepended(tokenizer):
    tokenizer = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer, eos_token="</s>", pad_token="<pad>")
    assert tokenizer.bos_token_id is None
    [example] = tokenize_pairs([("Answer:", " 2")], tokenizer, 4, 8)
    assert None not in example.prompt_ids and len(example.prompt_ids) <= 4


def test_collate_masks_exactly_the_target_tokens(tokenizer):
    examples = tokenize_pairs([("Answer:", " 2"), ("Question: one plus one?\nAnswer:", " 2")], tokenizer, 32, 8)
    batch = collate(examples, tokenizer.pad_token_id)
    for row, example in enumerate(examples):
        start, end = len(example.prompt_ids), len(example.prompt_ids) + len(example.target_ids)
        assert batch["target_mask"][row].nonzero().flatten().tolist() == list(range(start, end))
        assert batch["input_ids"][row, start:end].tolist() == example.target_ids
        prompt = batch["prompt_ids"][row][batch["prompt_mask"][row].bool()].tolist()
        assert prompt == example.prompt_ids  # left-padded for generation


def test_split_digits_gives_every_digit_its_own_token_and_decodes_back():
    texts = ["Question: What is 457 + 386?\nAnswer: 843"] * 50
    split, merged = train_bpe_tokenizer(texts, 300, split_digits=True), train_bpe_tokenizer(texts, 300)
    ids = split(" 843 + 12")["input_ids"]
    assert [split.decode([i]) for i in ids] == [" ", "8", "4", "3", " +", " ", "1", "2"]
    assert split.decode(ids) == " 843 + 12"
    assert len(merged(" 843")["input_ids"]) == 1  # without it, BPE learns the frequent number as one token
