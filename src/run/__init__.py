"""One run: the Hydra entry point (`python -m src.run`, src/run/__main__.py) and the glue around a
Lightning fit — callbacks, loggers, the warm start of a sweep, the report drawn when a sweep ends."""
from omegaconf import OmegaConf

from src.run.names import current_run_name
from src.run.train import train

# `hydra.run.dir: ${resume_or:${resume},outputs/...}`: a resumed run writes into the folder it resumes
OmegaConf.register_new_resolver("resume_or", lambda resume, fresh: resume or fresh, replace=True)
# `hydra.sweep.subdir: ${hydra.job.num}_${run_name:}`: folders named by what the sweep varies
OmegaConf.register_new_resolver("run_name", lambda: current_run_name("run"), replace=True)

__all__ = ["train"]
