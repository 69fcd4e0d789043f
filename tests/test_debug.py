"""The debug group (conf/debug/), one epoch numbering in every metrics file, and the start banner."""
import csv
import logging
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from conftest import CONF, REPO, compose_config, smoke_overrides
from src.run import train
from src.utils.run_dir import RunDir

DEBUG = ("smoke", "fdr", "overfit", "profile")
SMALL = smoke_overrides("model.", "data.", "evaluation.", "trainer.accelerator")  # small, but not debug=smoke


def hydra_dirs(overrides: list[str], config_name: str = "config") -> tuple[str, str]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
    hydra = OmegaConf.to_container(cfg.hydra, resolve=False)
    name = cfg.experiment_name  # ${now:...} resolves only inside a Hydra app
    dirs = (hydra[kind]["dir"].removeprefix("${resume_or:${resume},") for kind in ("run", "sweep"))  # resume= wins
    return tuple(d.replace("${experiment_name}", name) for d in dirs)


@pytest.mark.parametrize("name", DEBUG)
@pytest.mark.parametrize("config_name, experiment", [("config", "math_passn"), ("config", "table3_cot"),
                                                      ("evaluate", None)])
def test_debug_configs_compose_and_send_runs_under_outputs_debug(name, config_name, experiment):
    extra = [f"experiment={experiment}"] if experiment else []
    run_dir, sweep_dir = hydra_dirs([f"debug={name}", *extra], config_name)
    expected = f"outputs/debug/{experiment or 'evaluate'}/"
    assert run_dir.startswith(expected) and sweep_dir.startswith(expected)
    assert not hydra_dirs(extra, config_name)[0].startswith("outputs/debug")


def test_debug_smoke_is_what_the_tests_compose():
    cfg = compose_config([])
    assert (cfg.model.architecture.hidden_size, cfg.trainer.limit_train_batches, cfg.data.eval_problems) == (32, 2, 8)
    assert cfg.data.source == "auto" and cfg.data.path is None  # a data.path given beside it is read


def test_debug_smoke_refuses_proof_experiments_before_any_folder(tmp_path):
    cmd = [sys.executable, "-m", "src.run", "experiment=proof_tree_shapes", "debug=smoke",
           f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "debug=smoke sizes the MATH experiments" in result.stderr
    assert list(tmp_path.iterdir()) == []


def logged(run: RunDir, key: str) -> list[tuple[int, float]]:
    with open(run.path / "logs" / "metrics.csv") as f:
        return [(int(float(r["epoch"])), float(r[key])) for r in csv.DictReader(f) if r.get(key)]


def test_debug_fdr_runs_one_batch_and_exports_nothing(tmp_path):
    train(compose_config(["debug=fdr", *SMALL], run_dir=tmp_path, tiny=False))
    run = RunDir(tmp_path)
    assert [m["epoch"] for m in run.metrics()] == [1] and run.metrics()[0]["step"] == 1
    assert not run.model.exists()


def test_debug_overfit_drives_the_training_loss_down(tmp_path):
    train(compose_config(["debug=overfit", *SMALL, "trainer.max_epochs=10", "model.optimizer.lr=1e-2",
                          "model.scheduler.num_warmup_steps=0"], run_dir=tmp_path, tiny=False))
    losses = [loss for _, loss in logged(RunDir(tmp_path), "train/loss")]
    assert len(losses) == 20  # 2 batches x 10 epochs, each logged
    assert max(losses[-4:]) < 0.5 * min(losses[:2])


def test_debug_profile_writes_the_profiler_report(tmp_path):
    train(compose_config(["debug=profile", *SMALL, "trainer.limit_train_batches=2"], run_dir=tmp_path, tiny=False))
    report = (tmp_path / "fit-profile.txt").read_text()
    assert "run_training_epoch" in report and "validation_step" in report


def test_metrics_csv_and_metrics_jsonl_number_epochs_alike_and_the_banner_gives_the_sizes_used(tmp_path, caplog):
    cfg = compose_config(["trainer.max_epochs=2", "trainer.log_every_n_steps=1", "data.n_train=50",
                          "data.eval_problems=5"], run_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="src.run.train"):
        train(cfg)
    run = RunDir(tmp_path)
    assert [m["epoch"] for m in run.metrics()] == [1, 2]
    assert [epoch for epoch, _ in logged(run, "test/coverage@1")] == [1, 2]  # the evaluation after epoch k is k
    assert [epoch for epoch, _ in logged(run, "train/loss")] == [1, 1, 2, 2]  # so are epoch k's training steps
    assert run.eval_rows_file(1).exists() and run.eval_rows_file(2).exists()
    assert ("50 train / 24 test problems, 5 evaluated with 4 samples each, 8 training problems tracked"
            in caplog.text and "cross_entropy, 2 epochs" in caplog.text)
