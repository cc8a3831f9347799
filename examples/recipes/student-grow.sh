#!/usr/bin/env bash
# Recipe: a larger ×2 student grown from the shipped one instead of trained from scratch. `--init` loads the finished
# ×2 chain's weights (checkpoints/student-x2-finetune/model-last, the model shipped as models/x2: compact 16×6) and
# grows them to compact <width>×<depth> with Net2Net (src/models/grow.ts: copied channels with split outgoing weights,
# identity convs appended; the grown net scores the source's 36.88 dB on Set5 before the first step). It is then
# trained as a plain net (no --reparam) on all four training sets with L1, a short warmup and a cosine from --lr.
# Usage: bash examples/recipes/student-grow.sh <steps> [extra sharpen-kd train flags]
#   WIDTH / DEPTH (default 32 / 8), FROM (default the finished ×2 chain's model-last), OUT (default
#   checkpoints/student-x2-grow<width>x<depth>)
# Resumable: rerun the same command to continue from $OUT/last.ckpt (--init only applies to a fresh start).
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="$1"; shift
scale=2
source examples/recipes/student-common.sh
width="${WIDTH:-32}"; depth="${DEPTH:-8}"
from="${FROM:-checkpoints/student-x2-finetune/model-last}"
out="${OUT:-checkpoints/student-x2-grow${width}x${depth}}"
exec node --import tsx src/cli/main.ts train "${common[@]}" --arch compact --width "$width" --depth "$depth" --patch 48 \
  -d "$D/Kodak24" -d "$D/McMaster" --init "$from" --lr 2e-4 --warmup 200 \
  --steps "$steps" -o "$out" --resume "$@"
