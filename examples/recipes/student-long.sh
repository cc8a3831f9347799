#!/usr/bin/env bash
# Recipe: the long-schedule student (the one shipped in models/x<scale>). It is the from-scratch recipe
# (student.sh: same architecture, data, patches, batch, loss, seed) continued past its first cosine cycle:
# it starts from checkpoints/student-x<scale>-scratch/last.ckpt (run `student.sh <scale> <first steps>` first)
# and runs a second, longer cosine cycle up to <steps> total (a warm restart at the peak learning rate).
# The from-scratch run itself is left untouched, because the distillation ablation compares against it.
# Usage: bash examples/recipes/student-long.sh <scale 1|2|4> <total steps> [extra sharpen-kd train flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-long/last.ckpt.
# VARIANT=reparam continues the re-parameterized run instead (`student.sh <scale> <steps> --reparam -o
# checkpoints/student-x<scale>-reparam`) into checkpoints/student-x<scale>-reparam-long, with --reparam.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
variant="${VARIANT:-}"
case "$variant" in
  "") out="checkpoints/student-x$scale-long"; from="checkpoints/student-x$scale-scratch/last.ckpt"; extra=() ;;
  reparam) out="checkpoints/student-x$scale-reparam-long"; from="checkpoints/student-x$scale-reparam/last.ckpt"; extra=(--reparam) ;;
  *) echo "VARIANT must be empty or reparam, got $variant" >&2; exit 2 ;;
esac
continue_run "$out" "$from" "run the first cycle (examples/recipes/student.sh $scale <steps>) first"
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" "${extra[@]}" --steps "$steps" \
  -o "$out" "${resume[@]}" "$@"
