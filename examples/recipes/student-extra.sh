#!/usr/bin/env bash
# Recipe: a third cosine cycle for the re-parameterized long student, with more training data. It continues
# checkpoints/student-x<scale>-reparam-long/last.ckpt (VARIANT=reparam student-long.sh) with the same architecture,
# patches, batch, loss and seed, on T91 + BSDS200 + Kodak24 + McMaster (the issue's optional training sets; Set5 and
# Set14 stay evaluation-only), up to <total steps>. The cosine runs over steps 0..<total>, so the cycle restarts at
# the learning rate that position implies (e.g. 3.5e-4 at step 24000 of 40000) and anneals to lr/100.
# Usage: bash examples/recipes/student-extra.sh <scale 1|2|4> <total steps> [extra sharpen-kd train flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-extra/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
out="checkpoints/student-x$scale-extra"
from="checkpoints/student-x$scale-reparam-long/last.ckpt"
continue_run "$out" "$from" "run VARIANT=reparam examples/recipes/student-long.sh $scale <steps> first"
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" --reparam -d "$D/Kodak24" -d "$D/McMaster" \
  --steps "$steps" -o "$out" "${resume[@]}" "$@"
