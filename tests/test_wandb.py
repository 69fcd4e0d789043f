"""logger=wandb works with no network (offline mode): it keeps its run id with the run, the full
resolved config, the user's tags beside the objective's, a name and group that say which sweep run it is."""
import json

import pytest

from conftest import compose_config
from src.run import train
from src.run.names import name_part, run_name, varied_keys

wandb = pytest.importorskip("wandb", reason="the wandb extra is not installed")
from wandb_records import run_record  # noqa: E402  (needs wandb)


def test_offline_wandb_run_logs_metrics_media_config_and_tags_and_keeps_its_id(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = compose_config(["logger=wandb", "logger.tags=[baseline,v2]", "objective=dco", "objective.n=4"],
                         run_dir=tmp_path / "2026-01-02_03-04-05")
    train(cfg)
    meta = json.loads((tmp_path / "2026-01-02_03-04-05" / "meta.json").read_text())
    offline_runs = list((tmp_path / "2026-01-02_03-04-05" / "wandb").glob(f"offline-run-*-{meta['wandb_id']}"))
    assert meta["status"] == "completed" and len(offline_runs) == 1
    run_file = offline_runs[0] / f"run-{meta['wandb_id']}.wandb"
    history = run_file.read_bytes()
    for key in (b"test/coverage@16", b"pass_at_n", b"greedy_logp", b"curves/passn_vs_n"):
        assert key in history
    run, config = run_record(run_file)
    assert config["objective"]["n"] == 4 and config["data"]["batch_size"] == 16
    assert config["model"]["architecture"]["hidden_size"] == 32 and config["experiment_name"] == "default"
    assert {"baseline", "v2", "dco", "n=4"} <= set(run.tags)
    assert run.job_type == "train" and run.run_group == "default/2026-01-02_03-04-05"
    assert f"W&B offline run: {offline_runs[0]}" in capsys.readouterr().out  # where to `wandb sync` from


def test_run_names_carry_the_swept_values_only():
    overrides = ["data.source=builtin", "objective=dco", "objective.n=256", "seed=0", "trainer.max_epochs=2"]
    assert run_name("dco", overrides, {"objective", "objective.n", "seed"}) == "dco_n256_seed0"
    assert run_name("cross_entropy", overrides, {"objective"}) == "cross_entropy"
    assert name_part("model.optimizer.lr", "0.001") == "lr0.001"
    assert name_part("model", "qwen25_math_1p5b") == "model-qwen25_math_1p5b"
    assert name_part("data.path", "/data/math/level5") == "path-level5"


def test_varied_keys_come_from_the_sweeper_params_and_the_sweep_syntax_of_the_command_line(tmp_path):
    (tmp_path / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    task: ['objective.n=1,16', 'seed=range(0,3)', 'trainer.max_epochs=2']\n")
    assert varied_keys({"objective": "cross_entropy,dco"}, tmp_path) == {"objective", "objective.n", "seed"}
    assert varied_keys(None, tmp_path / "absent") == set()
