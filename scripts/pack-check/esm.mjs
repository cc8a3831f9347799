import { readFileSync } from 'node:fs';
import * as kd from 'sharpen-kd';
import { useBackend, SharpenError } from 'sharpen-kd';
if (typeof useBackend !== 'function' || typeof SharpenError !== 'function') throw new Error('ESM import is missing exports');
// The root entry stays small: what most programs use (see src/index.ts); the rest is in the subpath entries.
const count = Object.keys(kd).length;
if (count > 40) throw new Error(`the root entry exports ${count} names (at most 40)`);
// Every subpath entry of the exports map imports, and shares its code with the root (one copy of each function).
const pkg = JSON.parse(readFileSync(new URL(import.meta.resolve('sharpen-kd/package.json')), 'utf8'));
const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json');
const sizes = [];
for (const sub of subpaths) {
  const m = await import(`sharpen-kd/${sub.slice(2)}`);
  const names = Object.keys(m);
  if (names.length === 0) throw new Error(`sharpen-kd/${sub.slice(2)} exports nothing`);
  for (const name of names) if (name in kd && kd[name] !== m[name]) throw new Error(`${name} differs between sharpen-kd and sharpen-kd/${sub.slice(2)}`);
  sizes.push(`${sub.slice(2)} ${names.length}`);
}
await useBackend('wasm');
console.log(`ESM import OK (root: ${count} exports; ${sizes.join(', ')})`);
