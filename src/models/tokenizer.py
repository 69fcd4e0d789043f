"""Tokenizers: a byte-level BPE trained on the run's own training text, or a hub tokenizer."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"}
MAX_RUN = 2048  # longest whitespace-free run BPE trains on whole (its time grows with the square; MATH: 326)
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN + 1))
log = logging.getLogger(__name__)


def cut_long_runs(texts: Iterable[str]) -> Iterator[str]:
    """`texts` with every whitespace-free run longer than MAX_RUN cut into MAX_RUN-character pieces
    (for training only: encoding is unchanged), saying where the first such run is."""
    cut = 0
    for index, text in enumerate(texts):
        if _LONG_RUN.search(text):
            if not cut:
                run = _LONG_RUN.search(text)[0]
                log.warning("training text #%d has a %d-character run without whitespace (%r…): BPE training "
                            "cuts such runs into %d-character pieces; if it is not meant to be there, check "
                            "the data file", index, len(run), run[:40], MAX_RUN)
            cut += 1
            text = _LONG_RUN.sub(lambda m: " ".join(m[0][i:i + MAX_RUN] for i in range(0, len(m[0]), MAX_RUN)), text)
        yield text


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
    bpe.train_from_iterator(cut_long_runs(texts), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, **SPECIAL_TOKENS)


def load_tokenizer(pretrained: str | None, texts: Iterable[str], vocab_size: int,
                   save_dir: str | Path | None = None, split_digits: bool = False) -> PreTrainedTokenizerFast:
    """A hub tokenizer when `pretrained` names one, else a BPE trained on `texts`.

    A tokenizer already saved in `save_dir` is reused, so a resumed run keeps its vocabulary; it is
    saved atomically (a whole folder renamed into place), so a kill never leaves half a tokenizer.
    """
    if save_dir is not None and (Path(save_dir) / "tokenizer.json").exists():
        return load_saved_tokenizer(Path(save_dir))
    if pretrained:
        tokenizer = AutoTokenizer.from_pretrained(pretrained)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    else:
        tokenizer = train_bpe_tokenizer(texts, vocab_size, split_digits)
    if save_dir is not None:
        save_dir = Path(save_dir)
        save_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=save_dir.parent, prefix=f".{save_dir.name}."))
        tokenizer.save_pretrained(str(staging))
        shutil.rmtree(save_dir, ignore_errors=True)  # a folder without tokenizer.json: an earlier partial save
        os.replace(staging, save_dir)
    return tokenizer


def load_saved_tokenizer(save_dir: Path) -> PreTrainedTokenizerFast:
    try:
        json.loads((save_dir / "tokenizer.json").read_text(encoding="utf-8"))
        return AutoTokenizer.from_pretrained(str(save_dir))
    except (ValueError, OSError) as error:  # JSONDecodeError, UnicodeDecodeError, the tokenizers' own errors
        raise ValueError(
            f"{save_dir / 'tokenizer.json'} is unreadable ({type(error).__name__}: {str(error)[:200]}); it was "
            f"probably cut short by a kill or a full disk. Delete the folder {save_dir} and resume: the run "
            "trains the same tokenizer again from its training text (same data, same vocabulary size), or "
            "copy tokenizer/ from another run of the same config") from error
