#!/usr/bin/env bash
# Recipe: a wider ×2 student for the ×2 quality target (which has no parameter or frame-rate limit): compact 32×8
# with a pixel-unshuffle-2 front end, 91.6K parameters and 5.2 GMACs per 720p frame (the shipped 16×6 has 16.2K and
# 3.7; `npx tsx scripts/describe-students.ts`). Same data, batch, schedule, loss and seed as student.sh; 64² LR
# patches so that the body sees 32² positions.
# Usage: bash examples/recipes/student-wide.sh <steps> [extra sharpen-kd train flags]
# Resumable: rerun the same command to continue from checkpoints/student-x2-wide/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="$1"; shift
scale=2
source examples/recipes/student-common.sh
exec node --import tsx src/cli/main.ts train --arch compact --width 32 --depth 8 --unshuffle 2 --patch 64 "${common[@]}" \
  --steps "$steps" -o "checkpoints/student-x2-wide" --resume "$@"
