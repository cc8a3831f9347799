#!/usr/bin/env bash
# Recipe: a larger student grown from the shipped one instead of trained from scratch. `--init` loads the finished
# chain's weights (checkpoints/student-x<scale>-finetune/model-last, the model shipped as models/x<scale>: compact 16×6)
# and grows them to compact <width>×<depth> with Net2Net (src/models/grow.ts: copied channels with split outgoing
# weights, identity convs appended; the grown ×2 scores the source's 36.88 dB on Set5 before the first step). It is
# then trained as a plain net (no --reparam) on all four training sets with L1, a short warmup and a cosine from --lr,
# with the student recipe's patches, batch, EMA and seed.
# Usage: bash examples/recipes/student-grow.sh <scale 2|4> <steps> [extra sharpen-kd train flags]
#   WIDTH / DEPTH (default 32 / 8), FROM (default the finished chain's model-last), OUT (default
#   checkpoints/student-x<scale>-grow<width>x<depth>)
# Resumable: rerun the same command to continue from $OUT/last.ckpt (--init only applies to a fresh start).
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
only_scales "the finished chains" 2 4
width="${WIDTH:-32}"; depth="${DEPTH:-8}"
from="${FROM:-checkpoints/student-x$scale-finetune/model-last}"
out="${OUT:-checkpoints/student-x$scale-grow${width}x${depth}}"
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" --width "$width" --depth "$depth" \
  -d "$D/Kodak24" -d "$D/McMaster" --init "$from" --lr 2e-4 --warmup 200 \
  --steps "$steps" -o "$out" --resume "$@"
