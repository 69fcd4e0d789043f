"""Every option of every config group, and every experiment, composes and instantiates its parts."""
import pytest
from hydra.utils import instantiate

from conftest import CONF, compose_config

GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and p.name not in ("hydra",))
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONF / g).glob("*.yaml"))]


def test_every_group_has_options():
    assert {"data", "model", "objective", "trainer", "logger", "evaluation", "experiment"} <= set(GROUPS)


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes(group, option, tmp_path):
    selector = "+rollout" if group == "rollout" else group  # rollouts come with their objectives, or are added
    cfg = compose_config([f"{selector}={option}"], run_dir=tmp_path, tiny=False)
    if group == "experiment":
        assert cfg.experiment_name == option  # experiments are global and name their output folder
    elif group == "scale":
        assert cfg.model.pretrained if option.startswith("paper") else cfg.model.architecture  # global overrides
    else:
        assert cfg[group] is not None
    if group == "objective":
        assert instantiate(cfg.objective).name


def test_hub_presets_name_real_checkpoints(tmp_path):
    for option, hub_id in [("llama3_8b", "meta-llama/Meta-Llama-3-8B"), ("qwen25_math_1p5b", "Qwen/Qwen2.5-Math-1.5B")]:
        cfg = compose_config([f"model={option}"], run_dir=tmp_path, tiny=False)
        assert cfg.model.pretrained == hub_id and cfg.model.dtype == "bfloat16"
