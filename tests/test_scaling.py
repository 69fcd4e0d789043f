"""Scale-out configs compose and build here; GPU-only backends fail early, naming what to install."""
import importlib.util

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from lightning.pytorch.strategies import FSDPStrategy

from conftest import CONF, compose_config
from src.sampling import SamplingConfig, make_sampler
from src.sampling.vllm import cut, weight_version
from src.models.sharding import decoder_layers

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.parametrize("trainer", ["gpu", "ddp", "ddp_spawn", "fsdp", "deepspeed"])
def test_gpu_trainer_configs_use_bf16_and_leave_sharding_to_the_datamodule(trainer):
    cfg = compose_config([f"trainer={trainer}"], tiny=False)
    assert cfg.trainer.accelerator == "gpu" and cfg.trainer.precision == "bf16-mixed"
    assert cfg.trainer.use_distributed_sampler is False


def test_fsdp_wraps_and_recomputes_one_decoder_layer_at_a_time():
    strategy = instantiate(compose_config(["trainer=fsdp"]).trainer.strategy)
    assert isinstance(strategy, FSDPStrategy) and strategy._state_dict_type == "full"
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer
    from transformers.models.qwen2.modeling_qwen2 import Qwen2DecoderLayer
    assert {LlamaDecoderLayer, Qwen2DecoderLayer} <= decoder_layers()
    assert strategy.kwargs["auto_wrap_policy"]._module_classes == decoder_layers()
    assert strategy._activation_checkpointing_kwargs["auto_wrap_policy"]._module_classes == decoder_layers()


def test_deepspeed_builds_or_says_how_to_install_it():
    cfg = compose_config(["trainer=deepspeed", "trainer.strategy.stage=3"])
    if importlib.util.find_spec("deepspeed") is None:
        with pytest.raises(Exception, match="(?i)install.*deepspeed"):
            instantiate(cfg.trainer.strategy)
    else:
        assert instantiate(cfg.trainer.strategy).config["zero_optimization"]["stage"] == 3


def test_slurm_launcher_config_lists_what_the_submitit_plugin_reads():
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose("config", overrides=["hydra/launcher=submitit_slurm", "hydra.launcher.nodes=2"],
                      return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert launcher.nodes == 2 and launcher.tasks_per_node == launcher.gpus_per_node
    try:  # with the plugin installed: no field it does not know
        from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf
    except ImportError:
        return
    assert set(launcher) - {"_target_"} <= set(SlurmQueueConf.__dataclass_fields__)


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed: the guard is not reached")
def test_vllm_backend_without_vllm_names_the_install():
    model = torch.nn.Linear(1, 1)
    with pytest.raises(ImportError, match=r"pip install -e \.\[vllm\]"):
        make_sampler(model, tokenizer=None, config=SamplingConfig(backend="vllm"))


def test_weights_are_pushed_to_vllm_exactly_when_an_update_changed_them():
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    before, values = weight_version(model), [p.detach().clone() for p in model.parameters()]
    model(torch.ones(2, 3)).sum().backward()  # a forward pass reads weights, backward writes gradients
    assert weight_version(model) == before
    optimizer.step()
    assert weight_version(model) != before
    assert not all(torch.equal(v, p) for v, p in zip(values, model.parameters()))  # the weights did change


def test_completions_are_cut_before_eos():
    assert cut([5, 6, 2, 7], eos=2) == [5, 6] and cut([5, 6], eos=2) == [5, 6]
