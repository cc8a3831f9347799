#!/usr/bin/env bash
# Recipe: a shipped student trained from scratch on HR images only (T91 + BSDS200), validated on Set5.
# Usage: bash examples/recipes/student.sh <scale 1|2|4> <steps> [extra sharpen-kd train flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-scratch/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" --steps "$steps" \
  -o "checkpoints/student-x$scale-scratch" --resume "$@"
