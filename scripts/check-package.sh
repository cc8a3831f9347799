#!/usr/bin/env bash
# Packs the library and checks the tarball the way a user gets it: publint, are-the-types-wrong, and a smoke import
# of the root and of every subpath entry from a fresh ESM consumer and a fresh CJS consumer (with types checked by tsc).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tgz=$(npm pack --ignore-scripts --silent --pack-destination "$work" | tail -n 1)
echo "packed $tgz ($(du -h "$work/$tgz" | cut -f1))"
npx --no-install publint run "$work/$tgz" --strict
# Every resolution mode, node10 included (the subpath entries resolve there through "typesVersions").
npx --no-install attw "$work/$tgz"
consumer="$work/consumer"
mkdir -p "$consumer"
cp scripts/pack-check/esm.mjs scripts/pack-check/cjs.cjs scripts/pack-check/types.ts scripts/pack-check/types.mts "$consumer/"
cd "$consumer"
cat > package.json <<JSON
{ "name": "consumer", "private": true, "version": "0.0.0" }
JSON
# Install the tarball with the repo's node_modules as the source of its dependencies (no network needed for them).
mkdir -p node_modules
tar -xzf "$work/$tgz" -C "$work" && mv "$work/package" node_modules/sharpen-kd
for dep in "$root"/node_modules/* "$root"/node_modules/@*; do
  name=$(basename "$dep")
  [ -e "node_modules/$name" ] || ln -s "$dep" "node_modules/$name"
done
node esm.mjs
node cjs.cjs
# Types of every entry, as CommonJS (types.ts: the .d.cts files) and as an ES module (types.mts: the .d.ts files).
"$root/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --skipLibCheck --types node types.ts types.mts
echo "package check: OK"
