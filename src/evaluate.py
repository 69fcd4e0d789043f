"""`python -m src.evaluate model.pretrained=<hub id | save_pretrained folder | run folder> [overrides]`:
pass@N of any causal LM on MATH500 (data.path=<MATH folder> or data.source=hub) or any data.path,
with the training runs' evaluator (exact coverage, sampled and graded pass@k, greedy confidence) on
the HF or vLLM backend (evaluation.sampling.backend). Writes outputs/evaluate/<time>/ (config.yaml,
meta.json with job_type evaluate, metrics.jsonl, eval/epoch_000.jsonl, curves/, report.md)."""
from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from src.figures.report import draw_report
from src.run.evaluate import evaluate


# absolute: under the console script `dco-evaluate` a relative path resolves against the module (pkg://)
@hydra.main(version_base="1.3", config_path=str(Path(__file__).resolve().parents[1] / "conf"),
            config_name="evaluate")
def main(cfg: DictConfig) -> float | None:
    metrics = evaluate(cfg)
    if not metrics:  # not rank 0
        return None
    report = draw_report(cfg.paths.run_dir, cfg.report)
    print(f"{report.read_text()}\nreport: {report}")
    return metrics["test"]["coverage"].get(str(cfg.optimized_n))


if __name__ == "__main__":
    main()
