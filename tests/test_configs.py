"""Every option of every config group, and every experiment, composes and instantiates its parts;
scale presets refuse the experiments they do not fit, before any folder is created."""
import subprocess
import sys

import pytest
from hydra.utils import instantiate

from conftest import CONF, REPO, compose_config
from src.run.checks import check_config

GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and p.name not in ("hydra",))
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONF / g).glob("*.yaml"))]


def test_every_group_has_options():
    assert {"data", "model", "objective", "trainer", "logger", "evaluation", "experiment"} <= set(GROUPS)


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes(group, option, tmp_path):
    selector = "+rollout" if group == "rollout" else group  # rollouts come with their objectives, or are added
    if group == "hparams_search":  # needs Hydra's Optuna sweeper (the optuna extra)
        pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="pip install -e .[optuna]")
    cfg = compose_config([f"{selector}={option}"], run_dir=tmp_path, tiny=False)
    if group == "experiment":
        assert cfg.experiment_name == option  # experiments are global and name their output folder
    elif group == "hparams_search":  # global too: it picks DCO and Hydra's Optuna sweeper
        assert cfg.objective._target_.endswith(".DCO")
    elif group == "scale":
        assert cfg.model.pretrained if option.startswith("paper") else cfg.model.architecture  # global overrides
    elif group == "debug":
        assert cfg.trainer.enable_progress_bar is False  # global, from debug/default.yaml
    else:
        assert cfg[group] is not None
    if group == "objective":
        assert instantiate(cfg.objective).name


def test_hub_presets_name_real_checkpoints(tmp_path):
    for option, hub_id in [("llama3_8b", "meta-llama/Meta-Llama-3-8B"), ("qwen25_math_1p5b", "Qwen/Qwen2.5-Math-1.5B")]:
        cfg = compose_config([f"model={option}"], run_dir=tmp_path, tiny=False)
        assert cfg.model.pretrained == hub_id and cfg.model.dtype == "bfloat16"


@pytest.mark.parametrize("experiment,scale,advice", [
    ("table3_cot", "paper", "scale=paper_cot"), ("proof_dco_step", "paper", "scale=paper_proofs"),
    ("math_passn", "paper_proofs", "scale=paper"), ("math_passn", "paper_cot", "scale=paper")])
def test_a_scale_preset_refuses_an_experiment_it_does_not_fit(experiment, scale, advice):
    cfg = compose_config([f"experiment={experiment}", f"scale={scale}"], tiny=False)
    with pytest.raises(ValueError, match=f"scale={scale} does not fit experiment={experiment}.*use {advice}"):
        check_config(cfg)


@pytest.mark.parametrize("experiment,scale", [("math_passn", "paper"), ("table3_cot", "paper_cot"),
                                              ("proof_dco_step", "paper_proofs"), ("table3_cot", "tiny")])
def test_a_scale_preset_runs_the_experiments_it_fits(experiment, scale):
    data = ["data.source=hub"] if scale in ("paper", "paper_cot") else []  # the paper scales need MATH
    check_config(compose_config([f"experiment={experiment}", f"scale={scale}", *data], tiny=False))


@pytest.mark.parametrize("experiment,scale", [("math_passn", "paper"), ("table3_cot", "paper_cot")])
def test_the_paper_scales_refuse_the_builtin_problems(experiment, scale):
    with pytest.raises(ValueError, match=f"scale={scale} trains on MATH.*data.path=.*data.source=hub"):
        check_config(compose_config([f"experiment={experiment}", f"scale={scale}"], tiny=False))


def test_a_refused_config_exits_before_any_folder_exists(tmp_path):
    out = tmp_path / "sweep"
    result = subprocess.run([sys.executable, "-m", "src.run", "experiment=table3_cot", "scale=paper",
                             f"hydra.sweep.dir={out}"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "use scale=paper_cot" in result.stderr and not out.exists()


@pytest.mark.parametrize("experiment, scale", [("math_passn", "paper"), ("table3_cot", "paper_cot")])
def test_paper_scales_run_the_reference_codes_settings(experiment, scale, tmp_path):
    """ε = 0.1 with refill, per-token mean, the Padé-like factor, 20 warm-up steps (docs/fidelity.md)."""
    cfg = compose_config([f"experiment={experiment}", f"scale={scale}", "objective=dco"], run_dir=tmp_path, tiny=False)
    dco = instantiate(cfg.objective)
    assert (dco.threshold, dco.reduction.value, dco.factor.value) == (0.1, "token_mean", "reference")
    assert cfg.data.refill == "exact" and cfg.model.scheduler.num_warmup_steps == 20
    approx = compose_config([f"experiment={experiment}", f"scale={scale}", "objective=dco_approx"],
                            run_dir=tmp_path, tiny=False)
    assert approx.objective.threshold == 0.1 and approx.rollout.warmup_steps == 20


def test_scale_paper_samples_enough_answers_for_the_papers_largest_n(tmp_path):
    cfg = compose_config(["experiment=math_passn", "scale=paper"], run_dir=tmp_path, tiny=False)
    assert cfg.evaluation.samples_per_problem >= max(cfg.evaluation.coverage_ns) == 4096
    assert 4096 in cfg.evaluation.pass_ks


def test_tiny_scale_keeps_the_papers_formulas(tmp_path):
    cfg = compose_config(["objective=dco"], run_dir=tmp_path)
    dco = instantiate(cfg.objective)
    assert (dco.threshold, dco.reduction.value, dco.factor.value) == (0.0, "sum", "exact")
