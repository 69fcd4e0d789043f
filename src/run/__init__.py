"""One run: the Hydra entry point (`python -m src.run`, src/run/__main__.py) and the glue around a
Lightning fit — callbacks, loggers, the warm start of a sweep, the report drawn when a sweep ends."""
from omegaconf import OmegaConf

from src.run.train import train

# `hydra.run.dir: ${resume_or:${resume},outputs/...}`: a resumed run writes into the folder it resumes
OmegaConf.register_new_resolver("resume_or", lambda resume, fresh: resume or fresh, replace=True)

__all__ = ["train"]
