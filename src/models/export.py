"""A model and its tokenizer as a Hugging Face folder, written whole or not at all."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from transformers import PreTrainedModel, PreTrainedTokenizerBase


def save_pretrained_atomically(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, folder: str | Path,
                               state_dict: dict | None = None) -> Path:
    """`save_pretrained` of both into a temporary sibling folder, then renamed to `folder` (an older
    export is replaced), so `from_pretrained(folder)` never meets a half-written model. `state_dict`
    gives the full weights when the model's own are sharded across ranks."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.partial-"))
    old = None
    try:
        model.save_pretrained(partial, state_dict=state_dict)
        tokenizer.save_pretrained(partial)
        if folder.exists():
            old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
            folder.replace(old / folder.name)
        partial.replace(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if old is not None and not folder.exists():  # put the older export back
            (old / folder.name).replace(folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return folder
