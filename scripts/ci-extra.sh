#!/usr/bin/env bash
# Runs after build, docs and the package check in .ci/run: the TSDoc @example check, the runnable examples against the
# built package, and the browser demo in headless Chromium (installed from Debian when missing). ~3-5 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "--- $* ($(( $(date +%s) - start ))s)"; }

step "every public export has an @example"
npx --no-install tsx scripts/check-tsdoc.ts

if [ ! -f dist/index.js ]; then
  step "build (dist/ missing)"
  npm run build
fi

step "examples (npm run examples:test)"
npm run examples:test

if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  step "install chromium (Debian) for the browser test"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"

step "browser demo in headless Chromium (npm run test:browser)"
npm run test:browser
ls -l test-results/browser-demo.png

step "ci-extra done"
