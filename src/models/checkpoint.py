"""A finished run's model back from its folder: config.yaml, tokenizer/ and checkpoints/last.ckpt."""
from __future__ import annotations

import torch
from omegaconf import DictConfig, OmegaConf
from transformers import AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from src.models.factory import build_model
from src.utils.run_dir import RunDir


def load_run_model(run: RunDir, device: str | torch.device = "cpu"
                   ) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, DictConfig]:
    """(model in eval mode on `device`, its tokenizer, the run's resolved config)."""
    checkpoint = run.checkpoints / "last.ckpt"
    if not checkpoint.exists():
        raise FileNotFoundError(f"{checkpoint} does not exist: the run did not save a checkpoint")
    cfg = OmegaConf.load(run.config)
    tokenizer = AutoTokenizer.from_pretrained(str(run.tokenizer))
    architecture = OmegaConf.to_container(cfg.model.architecture) if cfg.model.architecture else None
    model = build_model(tokenizer, pretrained=cfg.model.pretrained, architecture=architecture, dtype=cfg.model.dtype)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    model.load_state_dict({key.removeprefix("model."): value for key, value in state.items()
                           if key.startswith("model.")})
    return model.to(device).eval(), tokenizer, cfg
