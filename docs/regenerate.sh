#!/usr/bin/env bash
# Regenerate the tiny-scale figures shown in the README (built-in data, CPU, offline).
# Each experiment writes outputs/<experiment>/<time>/; the PNGs of its report are copied here.
set -euo pipefail
cd "$(dirname "$0")/.."
for experiment in theory math_passn table1_ce_epochs fig1_confidence fig2_pareto; do
  python -m src.run experiment="$experiment" "$@"
  latest=$(ls -td outputs/"$experiment"/*/ | head -n 1)
  mkdir -p docs/"$experiment"
  cp "$latest"/*.png "$latest"/report.md docs/"$experiment"/
done
