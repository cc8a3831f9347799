#!/usr/bin/env bash
# The chain of runs behind the shipped model models/x<scale> (or models/x4-plus, models/x2-fast), from nothing to ship.sh. Each stage is a run config in
# lab/runs/ and resumes from its own last.ckpt (or from the stage before it), so rerunning continues where it stopped
# and skips finished stages; with the committed checkpoints only the stages not yet finished run.
# Usage: bash lab/reproduce.sh <scale 1|2|4, or x4-plus, x2-fast> [extra sharpen-kd train flags, e.g. --threads 2]
#        bash lab/reproduce.sh <scale> --dry-run   # check every stage (data, checkpoints, resume), train nothing
# Wall time from scratch on a 2-core machine (one wasm thread per run, two runs sharing it): about 3 h 45 min (x4:
# 24000 steps in 1 h 35 min, then 72000 more in 2 h 10 min),
# 2 h 45 min (x2: 16000 steps in 1 h 30 min, then 32000 more in about 1 h 15 min on two wasm threads), 1 h 10 min (x1: 20000 steps, 2.5 steps/s on one wasm thread beside two runs, 6.6 alone on two), 3 h 30 min (x4-plus: the EMT cache of 16384
# patches, about 1 h, then 24000 steps at 1.3-4 steps/s), 1 h 10 min (x2-fast: 48000 steps at about 12 steps/s on one wasm thread). The x1 chain before the blind benchmark (student-x1-reparam) and the earlier RGB-detail chains (student-x<s>-reparam -> -reparam-long -> -extra ->
# -finetune, 44000 / 30000 steps) are recorded in docs/results/runs.md and lab/runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-}"; shift || true
dry=0
for a in "$@"; do [ "$a" = "--dry-run" ] && dry=1; done
case "$scale" in
  4) stages=(student-x4-luma16x8 student-x4-luma16x8-96k) ;; # 24000 steps, then one cosine cycle to 96000 (HR only)
  2) stages=(student-x2-luma16x8 student-x2-luma16x8-48k) ;; # 16000 steps, then one cosine cycle to 48000 (HR only)
  1) stages=(student-x1-blind-gates-psnr-sharp-expand16) ;; # image-wide gates, PSNR loss, 15% of the patches unblurred, 16x wide re-parameterizable blocks; float16 weights
  x4-plus) stages=(student-x4-luma32x8-emt24k) ;; # distilled from EMT x4 (needs SHARPEN_KD_TEACHERS); float16 weights
  x2-fast) stages=(student-x2-fast-luma16x3-layer-slopes) ;; # 48000 steps (HR only), one PReLU slope per layer
  *) echo "usage: bash lab/reproduce.sh <scale 1|2|4, or x4-plus, x2-fast> [--dry-run] [train flags]" >&2; exit 2 ;;
esac
log=$(mktemp); trap 'rm -f "$log"' EXIT
stage() { echo "== $*" >&2; "$@" | tee "$log"; }
for s in "${stages[@]}"; do
  stage bash lab/run.sh "lab/runs/$s.json" "$@"
done
last="lab/runs/${stages[${#stages[@]}-1]}.json"
run=$(node --import tsx lab/scripts/run-folder.ts "$last")
model=model-last
if [ "$dry" = 1 ]; then
  if [ ! -f "$run/$model/model.json" ] && grep -q "^dry run: nothing to do" "$log"; then
    echo "dry run: $run/$model is missing and its run is finished: nothing would write it (commit it with the run)" >&2; exit 2
  fi
  echo "dry run: would ship $run/$model as models/${scale/#[124]/x$scale}"
elif [ "$scale" = x4-plus ] || [ "$scale" = 1 ]; then
  MODEL="$model" QUANTIZE=float16 stage bash lab/ship.sh "$scale" "$run"
else
  MODEL="$model" stage bash lab/ship.sh "$scale" "$run"
fi
