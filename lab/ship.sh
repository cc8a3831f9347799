#!/usr/bin/env bash
# Installs a trained student as a shipped model models/<name> (what Student.load('<name>') loads; x1, x2 and x4 are
# what the CLI picks by scale). It takes the run's model-last (the EMA weights at the end of the schedule), not model-best: model-best is
# picked on Set5, the evaluation set, and the shipped figure must not be selected on it.
# The new copy is complete before it replaces the old one (a failed copy leaves models/<name> as it was), with its
# model.onnx (scripts/export-student-onnx.ts), the graph Student.load runs on ONNX Runtime, and for x2, x2-fast and
# x4-plus its int8 graph model.int8.onnx.
# Usage: bash lab/ship.sh <name x1|x2|x2-fast|x4|x4-plus, or a scale 1|2|4> <run folder, or its run config lab/runs/<run>.json>
#   MODEL=model-best ships the run's model-best instead (no shipped model uses it).
#   QUANTIZE=float16 stores the weights as float16 (half the size, for students over the 200 KB budget in float32).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"; run="${2:-}"
usage="usage: bash lab/ship.sh <x1|x2|x2-fast|x4|x4-plus, or 1|2|4> <run folder or lab/runs/<run>.json>"
case "$name" in 1|2|4) name="x$name" ;; x1|x2|x2-fast|x4|x4-plus) ;; *) echo "$usage" >&2; exit 2 ;; esac
[ -n "$run" ] || { echo "$usage" >&2; exit 2; }
case "$run" in *.json) run=$(node --import tsx lab/scripts/run-folder.ts "$run") ;; esac
src="$run/${MODEL:-model-last}"
[ -f "$src/model.json" ] || { echo "no $src/model.json: train the run first" >&2; exit 2; }
dest="models/$name"
tmp="models/.$name.tmp.$$"
rm -rf "$tmp"
if [ -n "${QUANTIZE:-}" ]; then
  node --import tsx lab/scripts/quantize-model.ts "$src" "$tmp" "$QUANTIZE"
else
  cp -r "$src" "$tmp"
fi
rm -f "$tmp/model.onnx" "$tmp/model.int8.onnx"
node --import tsx scripts/export-student-onnx.ts "$tmp" >/dev/null
# The int8 graph (Student.load(name, { precision: 'int8' })) of the students where it pays, with the range method that
# lost least there (scripts/bench-int8.ts), calibrated on T91 and BSDS200 under $SHARPEN_KD_DATA; x2 (and x2-fast, as x2) keeps its first
# layer in float (+0.08 dB for about 4% of the int8 speed; on x4-plus +0.02 dB for 6%, so not there).
case "$name" in
  x2|x2-fast) node --import tsx scripts/export-student-onnx.ts --int8 percentile --float-first-layer "$tmp" >/dev/null ;;
  x4-plus) node --import tsx scripts/export-student-onnx.ts --int8 mse "$tmp" >/dev/null ;;
esac
if [ -d "$dest" ]; then mv "$dest" "$dest.old.$$"; fi
mv "$tmp" "$dest"
rm -rf "$dest.old.$$"
echo "shipped $src -> $dest ($(du -sk "$dest" | cut -f1) KB)"
