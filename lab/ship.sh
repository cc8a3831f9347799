#!/usr/bin/env bash
# Installs a trained student as the shipped model models/x<scale> (what Student.load('x<scale>') and the CLI load by
# default). It takes the run's model-last (the EMA weights at the end of the schedule), not model-best: model-best is
# picked on Set5, the evaluation set, and the shipped figure must not be selected on it.
# The new copy is complete before it replaces the old one (a failed copy leaves models/x<scale> as it was).
# Usage: bash lab/ship.sh <scale 1|2|4> <run folder, or its run config lab/runs/<run>.json>
#   MODEL=model-best ships the run's model-best instead (no shipped model uses it).
#   QUANTIZE=float16 stores the weights as float16 (half the size, for students over the 200 KB budget in float32).
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-}"; run="${2:-}"
case "$scale" in 1|2|4) ;; *) echo "usage: bash lab/ship.sh <scale 1|2|4> <run folder or lab/runs/<run>.json>" >&2; exit 2 ;; esac
[ -n "$run" ] || { echo "usage: bash lab/ship.sh <scale 1|2|4> <run folder or lab/runs/<run>.json>" >&2; exit 2; }
case "$run" in *.json) run=$(node --import tsx lab/scripts/run-folder.ts "$run") ;; esac
src="$run/${MODEL:-model-last}"
[ -f "$src/model.json" ] || { echo "no $src/model.json: train the run first" >&2; exit 2; }
dest="models/x$scale"
tmp="models/.x$scale.tmp.$$"
rm -rf "$tmp"
if [ -n "${QUANTIZE:-}" ]; then
  node --import tsx lab/scripts/quantize-model.ts "$src" "$tmp" "$QUANTIZE"
else
  cp -r "$src" "$tmp"
fi
if [ -d "$dest" ]; then mv "$dest" "$dest.old.$$"; fi
mv "$tmp" "$dest"
rm -rf "$dest.old.$$"
echo "shipped $src -> $dest ($(du -sk "$dest" | cut -f1) KB)"
