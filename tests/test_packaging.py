"""Packaging: console scripts point at real entry points, Hydra tab completion works through them,
the CPU install path never asks for a CUDA build, .gitignore ignores no tracked file."""
import importlib
import shutil
import subprocess
import tomllib

import pytest
import yaml

from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize("script", sorted(PYPROJECT["project"]["scripts"]))
def test_console_scripts_name_importable_functions(script):
    module, _, function = PYPROJECT["project"]["scripts"][script].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


def needs(script: str = "dco-run"):
    if shutil.which(script) is None:
        pytest.skip(f"{script} is not on PATH: pip install -e . (CI does)")


@pytest.mark.parametrize("script", ["dco-run", "dco-evaluate"])
def test_hydra_console_scripts_find_their_configs_from_any_folder(script, tmp_path):
    """A relative `config_path` resolves against the module (pkg://…) under a console script."""
    needs(script)
    done = subprocess.run([script, "--cfg", "job", "model=tiny"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "hidden_size:" in done.stdout, done.stderr[-2000:]


def test_tab_completion_through_the_console_script_completes_config_groups():
    needs("dco-run")
    script = ('eval "$(dco-run -sc install=bash)"; COMP_LINE="dco-run objective=dc"; COMP_POINT=${#COMP_LINE}; '
              'COMP_CWORD=1; hydra_bash_completion; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    options = {f"objective={path.stem}" for path in (REPO / "conf" / "objective").glob("dco*.yaml")}
    assert set(done.stdout.split()) == options, done.stderr[-2000:]


def test_the_cpu_environment_file_takes_torch_from_the_cpu_wheel_index():
    env = yaml.safe_load((REPO / "environment-cpu.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert CPU_INDEX in pip and any(line.startswith("-e .") for line in pip)
    assert CPU_INDEX in (REPO / "docs" / "workflow.md").read_text()


def test_gitignore_ignores_no_tracked_file():
    ignored = subprocess.run(["git", "ls-files", "--cached", "--ignored", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    assert ignored == []
