#!/usr/bin/env bash
# Runs one lab run config with the command it is for (sharpen-kd distill when it has a "teacher" section, else
# sharpen-kd train), from this checkout's sources (no build needed). Flags after the config override it.
# Usage: bash lab/run.sh lab/runs/<run>.json [sharpen-kd train/distill flags, e.g. --threads 2 or --dry-run]
set -euo pipefail
config="${1:-}"
[ -f "$config" ] || { echo "usage: bash lab/run.sh lab/runs/<run>.json [flags]" >&2; exit 2; }
shift
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
cd "$(dirname "$0")/.."
command=$(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(c.teacher ? "distill" : "train")' "$config")
exec node --import tsx src/cli/main.ts "$command" --config "$config" "$@"
