#!/usr/bin/env bash
# Recipe: the feature-distillation ablation. The student-x<scale>-scratch recipe (student.sh: same architecture, data,
# patches, schedule, seed and steps) plus feature KD from the shipped student models/x<scale> as the teacher (a
# compact 16×6 trained for 44 000 (×4) / 30 000 (×2) steps on all four training sets, examples/recipes/reproduce.sh):
# loss = L1(S, HR) + normalised MSE between the student's and the teacher's body features at the three default taps
# (body0, body3, body6; same widths, so no adapters). The teacher runs on every batch (features are not cached).
# Usage: bash examples/recipes/distill-feature.sh <scale 2|4> <steps> [extra sharpen-kd distill flags]
# Resumable: rerun the same command to continue from checkpoints/student-x<scale>-distill-feature/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
TEACHER="models/x$scale" exec bash examples/recipes/distill.sh "$scale" "$steps" --loss-output 0 --loss-feature 1 \
  --teacher-ensemble 1 -o "checkpoints/student-x$scale-distill-feature" "$@"
