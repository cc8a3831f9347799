#!/usr/bin/env bash
# Recipe: the ResNet-50 U-Net teacher (width multiplier 0.25, 1.9M params) at scale 2 or 4, trained from scratch on
# T91 + BSDS200 and validated on Set5, into checkpoints/teacher-x<scale>.
# Resumable: rerun the same command to continue from checkpoints/teacher-x<scale>/last.ckpt.
# TEACHER_STEPS (default 6500, ~1 h at ~1.8 steps/s on 2 threads) sets the cosine schedule's length; a later session
# can continue with a larger TEACHER_STEPS (the schedule is recomputed: a warm restart). Checkpoints are "compact"
# (Adam/EMA state in bfloat16: 19 MB instead of 30 MB) so that last.ckpt can be committed.
# Usage: bash examples/recipes/teacher.sh <scale 2|4> [extra sharpen-kd train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
D="${SHARPEN_KD_DATA:-../shared/data}"
scale="${1:-}"; shift || true
case "$scale" in
  # ×4 keeps ReLU: that is how the committed checkpoints/teacher-x4 run was trained (resume needs the same graph).
  # ×2 uses PReLU in the stem and decoder: with ReLU its last decoder level died and it never left the bilinear
  # baseline (docs/results/runs.md, scripts/probe-activations.ts).
  4) patch=24; act=relu ;;
  2) patch=32; act=prelu ;;
  *) echo "usage: bash examples/recipes/teacher.sh <scale 2|4> [flags]" >&2; exit 2 ;;
esac
exec node --import tsx src/cli/main.ts train --arch resnet --width-mult 0.25 --teacher-activation "$act" --scale "$scale" \
  -d "$D/T91" -d "$D/BSDS200" --val "$D/Set5/HR" \
  --batch 16 --patch "$patch" --steps "${TEACHER_STEPS:-6500}" --lr 1e-3 --schedule cosine --warmup 300 --clip 1 --ema 0.999 \
  --val-every 500 --checkpoint-every 250 --checkpoint-precision compact --threads 2 --seed 1 \
  -o "checkpoints/teacher-x$scale" --resume "$@"
