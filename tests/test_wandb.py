"""logger=wandb works with no network (offline mode) and keeps its run id with the run."""
import json

import pytest

from conftest import compose_config
from src.run import train

wandb = pytest.importorskip("wandb", reason="the wandb extra is not installed")


def test_offline_wandb_run_logs_metrics_media_and_keeps_its_id(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    train(compose_config(["logger=wandb"], run_dir=tmp_path))
    meta = json.loads((tmp_path / "meta.json").read_text())
    offline_runs = list((tmp_path / "wandb").glob(f"offline-run-*-{meta['wandb_id']}"))
    assert meta["status"] == "completed" and len(offline_runs) == 1
    history = (offline_runs[0] / f"run-{meta['wandb_id']}.wandb").read_bytes()
    for key in (b"test/coverage@16", b"pass_at_n", b"greedy_logp", b"curves/passn_vs_n"):
        assert key in history
