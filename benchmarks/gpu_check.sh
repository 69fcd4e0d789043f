#!/usr/bin/env bash
# One short check on a machine with a CUDA GPU, printing its numbers:
#   1. the tiny main job (CE and DCO side by side) on the GPU with bf16-mixed,
#   2. a bf16 training step of a ~0.2B Llama, DCO against CE (time ratio, peak memory),
#   3. the vLLM sampler against the HF sampler (skipped, saying so, when vLLM is absent).
# A part that fails is reported and the others still run; the exit code is 1 if any part failed.
# About 4 minutes on an H200 with the packages installed; INSTALL=1 first runs `pip install -e .[vllm]`.
#   bash benchmarks/gpu_check.sh [output folder, default /tmp/gpu_check]
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=offline
PY=${PYTHON:-python3}
OUT=${1:-/tmp/gpu_check}
mkdir -p "$OUT"
failed=0

part() {  # part NAME SECONDS COMMAND...: run with a time limit, report ok/FAILED and the time taken
  local name=$1 limit=$2 start=$SECONDS
  shift 2
  printf '\n=== %s ===\n' "$name"
  if timeout "$limit" "$@"; then
    echo "--- $name: ok, $((SECONDS - start)) s"
  else
    echo "--- $name: FAILED (exit $?), $((SECONDS - start)) s"
    failed=1
  fi
}

printf '=== machine ===\n'
date -u '+%Y-%m-%d %H:%M UTC'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "no NVIDIA GPU found"; exit 1; }
if [ "${INSTALL:-0}" = 1 ]; then
  $PY -m pip install -q -e ".[vllm]" || echo "pip install -e .[vllm] failed: going on with what is installed"
fi
$PY - <<'EOF' || exit 1
import importlib.util, sys
import torch
print(f"python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
      f"GPU visible: {torch.cuda.is_available()}")
missing = [m for m in ("hydra", "lightning", "transformers", "tokenizers", "math_verify", "matplotlib")
           if importlib.util.find_spec(m) is None]
if missing or not torch.cuda.is_available():
    sys.exit(f"cannot run: missing {missing or 'a CUDA device'} (pip install -e .)")
print("vllm:", "installed" if importlib.util.find_spec("vllm") else "absent (part 3 will be skipped)")
EOF

part "1. tiny main job on the GPU (CE and DCO, 2 epochs, bf16-mixed)" 300 \
  $PY -m src.run experiment=math_passn trainer=gpu trainer.max_epochs=2 trainer.enable_progress_bar=false \
  "hydra.sweep.dir=$OUT/main_job"
[ -f "$OUT/main_job/comparison.md" ] && cat "$OUT/main_job/comparison.md"

part "2. bf16 training step: DCO vs CE" 180 \
  $PY benchmarks/objectives.py --device cuda --bf16 --layers 12 --width 1024 --vocab 32000 --batch 16 --seq 512 --reps 20

part "3. vLLM sampler vs HF sampler" 300 $PY benchmarks/vllm_sampler.py

printf '\n=== done: %s ===\n' "$([ $failed = 0 ] && echo 'all parts ok' || echo 'some part FAILED')"
exit $failed
