#!/usr/bin/env bash
# Recipe: the exact chain of runs behind the shipped model models/x<scale>, from nothing to `ship.sh`. Every stage
# resumes from its own last.ckpt (or from the stage before it), so rerunning continues where it stopped and skips
# finished stages; with the committed checkpoints only the stages not yet finished run.
# Usage: bash examples/recipes/reproduce.sh <scale 1|2|4> [extra sharpen-kd train flags, e.g. --threads 2]
#        bash examples/recipes/reproduce.sh <scale> --dry-run   # check every stage (data, checkpoints, resume), train nothing
# Wall time from scratch on the 2-core machine (one wasm thread per run): about 2.5 h (x4), 3 h (x2), 40 min (x1).
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
    stage bash "$R/student.sh" 4 8000 --reparam -o checkpoints/student-x4-reparam "$@"
    VARIANT=reparam stage bash "$R/student-long.sh" 4 24000 "$@"
    stage bash "$R/student-extra.sh" 4 40000 "$@"
    stage bash "$R/student-finetune.sh" 4 4000 "$@"
    run=checkpoints/student-x4-finetune ;;
  2)
    stage bash "$R/student.sh" 2 6000 --reparam -o checkpoints/student-x2-reparam "$@"
    VARIANT=reparam stage bash "$R/student-long.sh" 2 14000 "$@"
    stage bash "$R/student-extra.sh" 2 26000 "$@"
    stage bash "$R/student-finetune.sh" 2 4000 "$@"
    run=checkpoints/student-x2-finetune ;;
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
