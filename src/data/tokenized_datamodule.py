"""What MATH and proof data modules share: a tokenizer attached before `setup`, and prompt/target
tokenization with a warning for cut targets."""
from __future__ import annotations

import logging
from collections.abc import Sequence

import lightning.pytorch as pl
from transformers import PreTrainedTokenizerBase

from src.data.tokenized import Example, tokenize_pairs

log = logging.getLogger(__name__)


class TokenizedDataModule(pl.LightningDataModule):
    tokenizer: PreTrainedTokenizerBase | None = None
    max_prompt_tokens: int
    max_target_tokens: int

    def attach_tokenizer(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer

    def _require_tokenizer(self) -> None:
        if self.tokenizer is None:
            raise RuntimeError(f"{type(self).__name__} needs `attach_tokenizer(...)` before setup")

    def _tokenize_pairs(self, pairs: Sequence[tuple[str, str]], split: str) -> list[Example]:
        """`tokenize_pairs` under this module's limits; targets cut by `max_target_tokens` are counted
        in a warning, since a cut target's exact coverage is that of its prefix."""
        examples = tokenize_pairs(pairs, self.tokenizer, self.max_prompt_tokens, self.max_target_tokens)
        cut = sum(e.target_ids[-1] != self.tokenizer.eos_token_id for e in examples)
        if cut:
            log.warning("%d of %d %s targets are longer than data.max_target_tokens=%d and were cut: "
                        "their exact coverage is that of a prefix (an over-estimate) and sampling cannot "
                        "finish them; raise data.max_target_tokens", cut, len(examples), split,
                        self.max_target_tokens)
        return examples
