#!/usr/bin/env bash
# Moves the training runs from checkpoints/ into the lab (lab/checkpoints/, with git mv so their history follows),
# removes the optimizer state of finished runs that nothing needs any more (lab/scripts/checkpoint-plan.ts decides and
# says why, run by run), and points the configs, .gitignore, the results pipeline and the docs at the new place.
#
# Run it once, from the repository root or anywhere, when no training run is writing into checkpoints/. It stages
# its changes and commits nothing: review `git status` / `git diff --cached`, run
# `npx vitest run test/lab-runs.test.ts`, then commit.
#
# Usage: bash lab/move-checkpoints.sh [--dry-run] [--force]
#   --dry-run  print what it would do and change nothing
#   --force    go on although a sharpen-kd train/distill process is running
set -euo pipefail
cd "$(dirname "$0")/.."
dry=0; force=0
for a in "$@"; do
  case "$a" in
    --dry-run) dry=1 ;;
    --force) force=1 ;;
    *) echo "usage: bash lab/move-checkpoints.sh [--dry-run] [--force]" >&2; exit 2 ;;
  esac
done
run() { if [ "$dry" = 1 ]; then echo "would run: $*"; else "$@"; fi; }

[ -d checkpoints ] || { echo "no checkpoints/ folder: already moved?" >&2; exit 2; }
[ ! -e lab/checkpoints ] || { echo "lab/checkpoints already exists: move or merge it by hand" >&2; exit 2; }
if [ -n "${SHARPEN_KD_RUNS:-}" ]; then
  echo "SHARPEN_KD_RUNS is set ($SHARPEN_KD_RUNS): unset it, so that the configs resolve to checkpoints/" >&2; exit 2
fi
busy=$(pgrep -af '(main\.ts|cli\.js|sharpen-kd) (train|distill)( |$)' || true)
if [ -n "$busy" ] && [ "$force" = 0 ]; then
  echo "training processes are running (they write into checkpoints/); stop them or wait, or pass --force:" >&2
  echo "$busy" >&2
  [ "$dry" = 1 ] || exit 2
fi

echo "== optimizer state (last.ckpt / best.ckpt) of finished runs"
plan=$(node --import tsx lab/scripts/checkpoint-plan.ts)
removed=0
while IFS=$'\t' read -r action target why; do
  [ -n "$action" ] || continue
  case "$action" in
    keep) echo "keep    $target: $why" ;;
    remove)
      echo "remove  $target ($(du -h "$target" | cut -f1)): $why"
      if git ls-files --error-unmatch "$target" >/dev/null 2>&1; then run git rm -q "$target"; else run rm -f "$target"; fi
      removed=$((removed + 1)) ;;
  esac
done <<< "$plan"
echo "$removed files removed"

echo "== checkpoints/ -> lab/checkpoints/"
# git mv renames the folder itself, so untracked and ignored files (model-last/, teacher caches) move along.
run git mv checkpoints lab/checkpoints

echo "== paths"
# The run configs: their runs root is the one variable default "SHARPEN_KD_RUNS": "../../checkpoints".
n=$(grep -l '"SHARPEN_KD_RUNS": "../../checkpoints"' lab/runs/*.json | wc -l)
echo "lab/runs/*.json: SHARPEN_KD_RUNS ../../checkpoints -> ../checkpoints ($n configs)"
run sed -i 's#"SHARPEN_KD_RUNS": "../../checkpoints"#"SHARPEN_KD_RUNS": "../checkpoints"#' lab/runs/*.json lab/README.md
run sed -i -e 's#which the configs default to the top-level checkpoints folder (`move-checkpoints.sh` moves it into the lab)#which the configs default to `lab/checkpoints`#' \
  -e 's#drops the optimizer state finished runs no longer need (not run yet)#drops the optimizer state finished runs no longer need (already run)#' lab/README.md
# .gitignore: the run-folder rules.
echo ".gitignore: checkpoints/... -> lab/checkpoints/..."
run sed -i -E 's#^checkpoints/#lab/checkpoints/#' .gitignore
# The results pipeline reads the runs (lab/scripts/results/catalog.ts).
catalog=$(ls lab/scripts/results/catalog.ts 2>/dev/null | head -1 || true)
if [ -n "$catalog" ] && grep -q "path.join(root, 'checkpoints', run)" "$catalog"; then
  echo "$catalog: runs are read from lab/checkpoints/"
  run sed -i "s#path.join(root, 'checkpoints', run)#path.join(root, 'lab', 'checkpoints', run)#" "$catalog"
  run sed -i -E 's#(^|[^/[:alnum:]_-])checkpoints/#\1lab/checkpoints/#g' "$catalog"
else
  echo "WARNING: the results pipeline's run folder (path.join(root, 'checkpoints', run)) was not found: point it at lab/checkpoints by hand" >&2
fi
# Docs and lab files that name run folders: checkpoints/<run>... -> lab/checkpoints/<run>...
docs=$(git grep -lE '(^|[^/[:alnum:]_-])checkpoints/' -- '*.md' 'lab/*.sh' 'lab/scripts/*.ts' ':!docs/results/README.md' ':!CHANGELOG.md' ':!.changeset' ':!lab/move-checkpoints.sh' || true)
for f in $docs; do
  echo "$f: checkpoints/ -> lab/checkpoints/"
  run sed -i -E 's#(^|[^/[:alnum:]_-])checkpoints/#\1lab/checkpoints/#g' "$f"
done
[ "$dry" = 1 ] || git add .gitignore lab/runs lab/README.md $docs ${catalog:+"$catalog"}

echo "== left for you"
echo "docs/results/README.md and docs/results/results.json are generated: 'npm run results' rewrites their run paths."
left=$(git grep -InE '(^|[^/[:alnum:]_-])checkpoints/' -- ':!lab/checkpoints' ':!docs/results/results.json' ':!docs/results/README.md' ':!lab/move-checkpoints.sh' ':!package-lock.json' || true)
if [ -n "$left" ]; then echo "other mentions of checkpoints/ (check them):"; echo "$left"; fi
echo "then: git status; npx vitest run test/lab-runs.test.ts; git commit"
