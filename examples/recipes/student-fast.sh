#!/usr/bin/env bash
# Recipe: a real-time variant of the ×1 (sharpening) or ×2 student: the shipped compact 16×6 net with a pixel-unshuffle
# front end (×1: unshuffle 4, ×2: unshuffle 2), so its body runs at 1/4 resolution of the input. Same data, batch,
# schedule, loss and seed as student.sh; the patch is larger (96 / 64) so that the body still sees 24² / 32² pixels.
# Usage: bash examples/recipes/student-fast.sh <scale 1|2> <steps> [extra sharpen-kd train flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-unshuffle/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
case "$scale" in
  1) arch=(--arch compact --width 16 --depth 6 --unshuffle 4 --patch 96) ;;
  2) arch=(--arch compact --width 16 --depth 6 --unshuffle 2 --patch 64) ;;
  *) echo "scale must be 1 or 2 (the ×4 student already runs its body at LR resolution)" >&2; exit 2 ;;
esac
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" --steps "$steps" \
  -o "checkpoints/student-x$scale-unshuffle" --resume "$@"
