#!/usr/bin/env bash
# Recipe: a short fine-tune of a finished student run (default: student-extra.sh's), aimed at PSNR: MSE instead of L1,
# larger LR patches (fewer outputs per patch see the zero padding: the 16x6 compact net's receptive field is 17 LR
# pixels, so in a 32-pixel patch only a quarter of the outputs are free of it), and a fresh cosine cycle from a low
# peak learning rate (--schedule-start: warmup and decay over the fine-tune's own steps). Same architecture, data and
# seed as the run it continues; the batch is halved so a step costs about what it did.
# Usage: bash examples/recipes/student-finetune.sh <scale 2|4> <fine-tune steps> [extra sharpen-kd train flags]
#   FROM=checkpoints/<run> picks the run to continue (default checkpoints/student-x<scale>-extra, at its planned end);
#   OUT=checkpoints/<run> the output folder (default checkpoints/student-x<scale>-finetune), e.g. for an ablation:
#   OUT=checkpoints/student-x4-finetune-l1 bash examples/recipes/student-finetune.sh 4 4000 --pixel-loss l1
#   VARIANT=luma fine-tunes the luma-detail chain instead: FROM defaults to checkpoints/student-x<scale>-luma16x8 (at
#   its end: step 24000 at x4, 16000 at x2), OUT to checkpoints/student-x<scale>-luma16x8-finetune, with
#   student-luma.sh's architecture flags.
# Resumable: rerun the same command to continue from $OUT/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; ft="$2"; shift 2
source examples/recipes/student-common.sh
case "$scale" in
  4) start=40000; patch=48 ;;
  2) start=26000; patch=72 ;;
  *) echo "scale must be 2 or 4" >&2; exit 2 ;;
esac
variant=()
from="${FROM:-checkpoints/student-x$scale-extra}"
out="${OUT:-checkpoints/student-x$scale-finetune}"
before="examples/recipes/student-extra.sh $scale <steps>"
if [ "${VARIANT:-}" = luma ]; then
  start=$([ "$scale" = 4 ] && echo 24000 || echo 16000)
  variant=(--depth 8 --detail luma --residual-interpolation bilinear)
  from="${FROM:-checkpoints/student-x$scale-luma16x8}"
  out="${OUT:-checkpoints/student-x$scale-luma16x8-finetune}"
  before="examples/recipes/student-luma.sh $scale $start"
fi
continue_run "$out" "$from/last.ckpt" "run $before first"
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" "${variant[@]}" --reparam -d "$D/Kodak24" -d "$D/McMaster" \
  --patch "$patch" --batch 8 --pixel-loss mse --lr 1e-4 --min-lr 1e-6 --warmup 0 \
  --schedule-start "$start" --steps "$((start + ft))" -o "$out" "${resume[@]}" "$@"
