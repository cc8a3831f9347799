#!/usr/bin/env bash
# Y-PSNR and RGB-PSNR of a model on Set5 and Set14, through the CLI only (downscale -> sharpen -> score): the colour
# check of a luma-detail student, whose chroma is the interpolated input's, against an RGB-detail one.
# Usage: bash lab/scripts/score-rgb.sh <scale> <model folder or name>...
set -euo pipefail
echo "| model | set | Y-PSNR / SSIM | RGB-PSNR / SSIM |"; echo "|---|---|---|---|"
cd "$(dirname "$0")/../.."
scale="$1"; shift
D="${SHARPEN_KD_DATA:-../shared/data}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cli() { node --import tsx src/cli/main.ts "$@"; }
for set in Set5 Set14; do
  cli downscale "$D/$set/HR" -s "$scale" -o "$tmp/$set-lr" > /dev/null 2>&1
  for m in "$@"; do
    out="$tmp/$set-$(echo "$m" | tr '/' '_')"
    cli sharpen "$tmp/$set-lr" -m "$m" -o "$out" > /dev/null 2>&1
    y=$(cli score "$out" "$D/$set/HR" -s "$scale" | tail -1 | awk '{print $2" / "$3}')
    rgb=$(cli score "$out" "$D/$set/HR" -s "$scale" --rgb | tail -1 | awk '{print $2" / "$3}')
    echo "| $m | $set | $y | $rgb |"
  done
done
