#!/usr/bin/env bash
# Recipe: the exact chain of runs behind the shipped model models/x<scale>, from nothing to `ship.sh`. Every stage
# resumes from its own last.ckpt (or from the stage before it), so rerunning continues where it stopped and skips
# finished stages; with the committed checkpoints only the stages not yet finished run.
# Usage: bash examples/recipes/reproduce.sh <scale 1|2|4> [extra sharpen-kd train flags, e.g. --threads 2]
#        bash examples/recipes/reproduce.sh <scale> --dry-run   # check every stage (data, checkpoints, resume), train nothing
# Wall time from scratch on the 2-core machine (one wasm thread per run, two runs sharing it): about 1 h 35 min (x4),
# 1 h 40 min (x2), 40 min (x1). The earlier RGB-detail chains (student.sh --reparam -> student-long.sh -> student-extra.sh
# -> student-finetune.sh, 44000 / 30000 steps) are recorded in docs/results/runs.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${1:-}"; shift || true
dry=0
for a in "$@"; do [ "$a" = "--dry-run" ] && dry=1; done
R=examples/recipes
log=$(mktemp); trap 'rm -f "$log"' EXIT
stage() { echo "== $*" >&2; "$@" | tee "$log"; }
case "$scale" in
  4)
    stage bash "$R/student-luma.sh" 4 24000 "$@"
    run=checkpoints/student-x4-luma16x8 ;;
  2)
    stage bash "$R/student-luma.sh" 2 16000 "$@"
    run=checkpoints/student-x2-luma16x8 ;;
  1)
    stage bash "$R/student.sh" 1 5000 --reparam -o checkpoints/student-x1-reparam "$@"
    run=checkpoints/student-x1-reparam ;;
  *) echo "usage: bash examples/recipes/reproduce.sh <scale 1|2|4> [--dry-run] [train flags]" >&2; exit 2 ;;
esac
model=model-last
if [ "$dry" = 1 ]; then
  if [ ! -f "$run/$model/model.json" ] && grep -q "^dry run: nothing to do" "$log"; then
    echo "dry run: $run/$model is missing and its run is finished: nothing would write it (commit it with the run)" >&2; exit 2
  fi
  echo "dry run: would ship $run/$model as models/x$scale"
else
  MODEL="$model" stage bash "$R/ship.sh" "$scale" "$run"
fi
