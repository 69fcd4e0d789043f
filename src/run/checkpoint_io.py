"""Checkpoints written atomically, read without running code.

Lightning's own `TorchCheckpointIO` stages a checkpoint in the system temp dir and then copies it over
the previous file, so a full disk during the copy destroys the last good checkpoint. Here a checkpoint
is written to a temporary file beside its target (same file system), flushed and fsynced, then renamed
over it: a failed write leaves the previous checkpoint untouched and no temporary file behind.
Checkpoints are loaded with `weights_only=True` (tensors and plain types only; the module and the
refill sampler keep their states that way).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Optional[Any] = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)  # the rename itself survives a power loss
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def load_checkpoint(self, path, map_location: Optional[Any] = None, weights_only: Optional[bool] = None):
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)
