#!/usr/bin/env bash
# Recipe: the x4 ResNet-50 U-Net teacher (width multiplier 0.25), trained from scratch on T91 + BSDS200 and
# validated on Set5. Resumable: rerun the same command to continue from checkpoints/teacher-x4/last.ckpt.
# Usage: bash examples/recipes/teacher-x4.sh [extra sharpen-kd train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
D="${SHARPEN_KD_DATA:-../shared/data}"
exec node --import tsx src/cli/main.ts train --arch resnet --width-mult 0.25 --scale 4 \
  -d "$D/T91" -d "$D/BSDS200" --val "$D/Set5/HR" \
  --batch 16 --patch 24 --steps 60000 --lr 5e-4 --schedule cosine --warmup 500 --clip 1 --ema 0.999 \
  --val-every 1000 --checkpoint-every 500 --seed 1 \
  -o checkpoints/teacher-x4 --resume "$@"
