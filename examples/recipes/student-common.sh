# Sourced by student.sh and distill.sh (with $scale set): the shipped students' architecture, data, schedule and seed,
# defined once so that a distilled run differs from its from-scratch twin only in the loss.
# Sets D (data root), arch (architecture flags) and common (everything else but --steps and --out).
D="${SHARPEN_KD_DATA:-../shared/data}"
case "$scale" in
  4) arch=(--arch compact --width 16 --depth 6 --patch 32) ;;
  2) arch=(--arch compact --width 16 --depth 6 --patch 48) ;;
  1) arch=(--arch compact --width 16 --depth 6 --patch 64) ;;
  *) echo "scale must be 1, 2 or 4" >&2; exit 2 ;;
esac
common=(--scale "$scale" -d "$D/T91" -d "$D/BSDS200" --val "$D/Set5/HR"
  --batch 16 --lr 1e-3 --schedule cosine --warmup 300 --clip 1 --ema 0.999
  --val-every 500 --checkpoint-every 250 --seed 1)

# continue_run <out> <from checkpoint> <hint>: sets resume=(...) to continue <out> from its own last.ckpt, or to start it
# from <from> (another run's checkpoint); exits with <hint> when neither exists.
continue_run() {
  if [ -f "$1/last.ckpt" ]; then
    resume=(--resume)
  elif [ -f "$2" ]; then
    resume=(--resume "$2")
  else
    echo "no $2: $3" >&2; exit 2
  fi
}

# only_scales <reason> <scale>...: exits with status 2 unless $scale is one of the given scales.
only_scales() {
  local why="$1"; shift
  for s in "$@"; do [ "$scale" = "$s" ] && return 0; done
  echo "scale must be $(echo "$@" | sed 's/ / or /g') ($why)" >&2; exit 2
}
