#!/usr/bin/env bash
# Recipe: a shipped student trained from scratch on HR images only (T91 + BSDS200), validated on Set5.
# Usage: bash examples/recipes/student.sh <scale 1|2|4> <steps> [extra sharpen-kd train flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-scratch/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
D="${SHARPEN_KD_DATA:-../shared/data}"
scale="$1"; steps="$2"; shift 2
case "$scale" in
  4) arch=(--arch compact --width 16 --depth 6 --patch 32) ;;
  2) arch=(--arch compact --width 16 --depth 6 --patch 48) ;;
  1) arch=(--arch compact --width 16 --depth 6 --patch 64) ;;
  *) echo "scale must be 1, 2 or 4" >&2; exit 2 ;;
esac
exec node --import tsx src/cli/main.ts train "${arch[@]}" --scale "$scale" \
  -d "$D/T91" -d "$D/BSDS200" --val "$D/Set5/HR" \
  --batch 16 --steps "$steps" --lr 1e-3 --schedule cosine --warmup 300 --clip 1 --ema 0.999 \
  --val-every 500 --checkpoint-every 250 --seed 1 \
  -o "checkpoints/student-x$scale-scratch" --resume "$@"
