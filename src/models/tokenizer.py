"""Tokenizers: a byte-level BPE trained on the run's own training text, or a hub tokenizer."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"}


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, split_digits: bool = False) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on `texts` (every byte is in the alphabet, so nothing is ever <unk>).
    `split_digits`: every digit is its own token, so numbers are read and written digit by digit (a
    small model can then learn carries instead of memorising one token per number)."""
    bpe = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
                         if split_digits else byte_level)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, **SPECIAL_TOKENS)


def load_tokenizer(pretrained: str | None, texts: Iterable[str], vocab_size: int,
                   save_dir: str | Path | None = None, split_digits: bool = False) -> PreTrainedTokenizerFast:
    """A hub tokenizer when `pretrained` names one, else a BPE trained on `texts`.

    A tokenizer already saved in `save_dir` is reused, so a resumed run keeps its vocabulary.
    """
    if save_dir is not None and (Path(save_dir) / "tokenizer.json").exists():
        return AutoTokenizer.from_pretrained(str(save_dir))
    if pretrained:
        tokenizer = AutoTokenizer.from_pretrained(pretrained)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    else:
        tokenizer = train_bpe_tokenizer(texts, vocab_size, split_digits)
    if save_dir is not None:
        tokenizer.save_pretrained(str(save_dir))
    return tokenizer
