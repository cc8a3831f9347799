#!/usr/bin/env bash
# Recipe: a luma-detail student. The compact net's last conv predicts one luma correction per output pixel, added to
# all three channels of the bilinearly upsampled input (`--detail luma --residual-interpolation bilinear`; the pixel
# loss is measured on Y): the capacity goes to the channel Y-PSNR and the eye resolve, and at ×4 the last conv costs a
# third of the RGB one, which pays for two more body convs at the shipped net's MACs (16×8 luma: 21.5K parameters,
# 1.22 GMAC at 1280×720, as the 16×6 RGB net). Re-parameterized training on all four training sets, the student
# recipe's patches, batch, schedule, EMA and seed.
# Usage: bash examples/recipes/student-luma.sh <scale 2|4> <steps> [extra sharpen-kd train flags]
#   DEPTH (default 8), WIDTH (default 16), OUT (default checkpoints/student-x<scale>-luma<width>x<depth>)
# Resumable: rerun the same command to continue from $OUT/last.ckpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="$1"; steps="$2"; shift 2
source examples/recipes/student-common.sh
only_scales "luma students are for upscaling" 2 4
width="${WIDTH:-16}"; depth="${DEPTH:-8}"
out="${OUT:-checkpoints/student-x$scale-luma${width}x${depth}}"
exec node --import tsx src/cli/main.ts train "${arch[@]}" "${common[@]}" --width "$width" --depth "$depth" \
  --detail luma --residual-interpolation bilinear --reparam -d "$D/Kodak24" -d "$D/McMaster" \
  --steps "$steps" -o "$out" --resume "$@"
