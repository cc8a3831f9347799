#!/usr/bin/env bash
# Recipe: a shipped-size student distilled from the trained ResNet-50 U-Net teacher (examples/recipes/teacher.sh),
# with exactly the student recipe's data, patches, schedule and steps (examples/recipes/student.sh), so that the two
# runs differ only in the loss: pixel L1 to HR + output L1 to the teacher's prediction (weights 1 and 1).
# The teacher runs once, through ONNX Runtime when installed, over CACHE_SIZE (default 8192) training patches, each
# averaged over TEACHER_ENSEMBLE (default 8) flips/transposes (geometric self-ensemble: +0.15 dB for the x4 teacher on
# Set5, `npm run results:ensemble -- checkpoints/teacher-x4/model-best`). The predictions are cached in checkpoints/teacher-x<scale>/cache (float16, ~1.2 GB at x4; not
# committed). Sampling from the cache adds random flips/rotations, so the student sees 8x as many distinct views.
# TEACHER=<model folder> distils from another teacher (e.g. TEACHER=models/x4, the shipped student, whose x8 self-ensemble
# scores 30.97 dB on Set5); its predictions are then cached in CACHE=<dir> (default checkpoints/cache-<teacher path with / as ->, e.g.
# checkpoints/cache-models-x4; not committed).
# Usage: bash examples/recipes/distill.sh <scale 2|4> <steps> [extra sharpen-kd distill flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-distill/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
only_scales "train a teacher for it first" 2 4
teacher="${TEACHER:-checkpoints/teacher-x$scale/model-best}"
default_cache="checkpoints/teacher-x$scale/cache"
[ -n "${TEACHER:-}" ] && default_cache="checkpoints/cache-$(echo "${TEACHER%/}" | tr / -)"
cache="${CACHE:-$default_cache}"
[ -f "$teacher/model.json" ] || { echo "no trained teacher at $teacher: run examples/recipes/teacher.sh $scale first" >&2; exit 2; }
exec node --import tsx src/cli/main.ts distill --teacher "$teacher" "${arch[@]}" "${common[@]}" --steps "$steps" \
  --cache-dir "$cache" --cache-size "${CACHE_SIZE:-8192}" \
  --teacher-ensemble "${TEACHER_ENSEMBLE:-8}" --loss-pixel 1 --loss-output 1 \
  -o "checkpoints/student-x$scale-distill" --resume "$@"
