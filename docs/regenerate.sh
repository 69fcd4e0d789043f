#!/usr/bin/env bash
# Regenerate the tiny-scale figures shown in the README (built-in data, CPU, offline).
# Each experiment writes outputs/<experiment>/<time>/; the PNGs of its report are copied here.
#   bash docs/regenerate.sh                                   (all of them, ≈ 55 min on 2 cores)
#   EXPERIMENTS="fig2_pareto" bash docs/regenerate.sh         (just one; extra arguments are overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
for experiment in ${EXPERIMENTS:-theory math_passn mechanism table1_ce_epochs fig1_confidence fig2_pareto}; do
  python -m src.run experiment="$experiment" "$@"
  latest=$(ls -td outputs/"$experiment"/*/ | head -n 1)
  mkdir -p docs/"$experiment"
  cp "$latest"/*.png "$latest"/report.md docs/"$experiment"/
done
