const kd = require('sharpen-kd');
if (typeof kd.useBackend !== 'function' || typeof kd.SharpenError !== 'function') throw new Error('CJS require is missing exports');
const count = Object.keys(kd).length;
if (count > 40) throw new Error(`the root entry exports ${count} names (at most 40)`);
// Every subpath entry of the exports map requires, and shares its code with the root (one copy of each function).
const subpaths = Object.keys(require('sharpen-kd/package.json').exports).filter((k) => k !== '.' && k !== './package.json');
const sizes = [];
for (const sub of subpaths) {
  const m = require(`sharpen-kd/${sub.slice(2)}`);
  const names = Object.keys(m);
  if (names.length === 0) throw new Error(`sharpen-kd/${sub.slice(2)} exports nothing`);
  for (const name of names) if (name in kd && kd[name] !== m[name]) throw new Error(`${name} differs between sharpen-kd and sharpen-kd/${sub.slice(2)}`);
  sizes.push(`${sub.slice(2)} ${names.length}`);
}
kd.useBackend('wasm').then(() => console.log(`CJS require OK (root: ${count} exports; ${sizes.join(', ')})`));
