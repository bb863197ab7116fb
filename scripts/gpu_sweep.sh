#!/usr/bin/env bash
# One command for a short GPU lease: the paper-* presets in priority order within a wall-clock budget
# (default 9 minutes), every finished run's results written, unfinished ones resumable by the same command.
#   bash scripts/gpu_sweep.sh                       # default presets, 9 minutes, runs/sweep/
#   bash scripts/gpu_sweep.sh paper-mnist-mlp --budget-min 8 --out runs/sweep
#   bash scripts/gpu_sweep.sh --smoke --budget-min 1   # test the path on a CPU in a minute
# Needs only this repository, torch and numpy/scipy, and the data files the presets name (carry data/raw/mnist
# for the MNIST presets). See chapter 11 and `python -m spectral_bias.experiments.sweep --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec "${PYTHON:-python3}" -m spectral_bias.experiments.sweep "$@"
