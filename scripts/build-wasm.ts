/**
 * Compiles the WebAssembly text modules of the library (`src/**\/*.wat`) into TypeScript files that hold their bytes
 * (`<name>-wasm.ts` beside each), so that the package needs no loader, fetch or bundler plugin for them.
 * `--check` compiles without writing and fails when a generated file is out of date (a test runs it).
 *
 *   npx tsx scripts/build-wasm.ts [--check]
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function watFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? watFiles(join(dir, e.name)) : e.name.endsWith('.wat') ? [join(dir, e.name)] : [],
  );
}

/** The generated TypeScript for one module: its bytes as a Uint8Array literal, 32 per line. */
export async function generate(watPath: string): Promise<{ path: string; text: string }> {
  const wabt = await wabtInit();
  const name = relative(root, watPath);
  const mod = wabt.parseWat(name, readFileSync(watPath, 'utf8'), { simd: true });
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i += 32) lines.push(`  ${Array.from(buffer.subarray(i, i + 32)).join(', ')},`);
  const base = watPath.replace(/\.wat$/, '');
  const text = [
    `// Generated from ${name.split('/').pop()} by scripts/build-wasm.ts: do not edit.`,
    '/** @internal The compiled module, ' + buffer.length + ' bytes. */',
    `export const WASM_BYTES = new Uint8Array([`,
    ...lines,
    ']);',
    '',
  ].join('\n');
  return { path: `${base}-wasm.ts`, text };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const wat of watFiles(join(root, 'src'))) {
    const { path, text } = await generate(wat);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current === text) continue;
    if (check) {
      console.error(`${relative(root, path)} is out of date: run npx tsx scripts/build-wasm.ts`);
      stale++;
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${relative(root, path)}`);
    }
  }
  if (stale) process.exit(1);
}
