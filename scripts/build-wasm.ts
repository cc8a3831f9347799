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

/** A module that imports its memory is also built for a shared memory (`WASM_BYTES_SHARED`). */
const IMPORTED_MEMORY = '(import "env" "memory" (memory 1))';

/** The generated TypeScript for one module: its bytes as a Uint8Array literal, 32 per line. */
export async function generate(watPath: string): Promise<{ path: string; text: string }> {
  const wabt = await wabtInit();
  const name = relative(root, watPath);
  const source = readFileSync(watPath, 'utf8');
  const compile = (text: string, shared = false): Uint8Array => {
    const mod = wabt.parseWat(name, text, { simd: true, threads: shared });
    // wabt's validator refuses shared memories whatever the features; V8 checks that variant below.
    if (!shared) mod.validate();
    const { buffer } = mod.toBinary({});
    mod.destroy();
    if (!WebAssembly.validate(buffer as Uint8Array<ArrayBuffer>)) throw new Error(`${name}${shared ? ' (shared memory)' : ''}: not a valid WebAssembly module`);
    return buffer;
  };
  const literal = (exportName: string, doc: string, buffer: Uint8Array): string[] => {
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i += 32) lines.push(`  ${Array.from(buffer.subarray(i, i + 32)).join(', ')},`);
    return [`/** @internal ${doc}, ${buffer.length} bytes. */`, `export const ${exportName} = new Uint8Array([`, ...lines, ']);'];
  };
  const base = watPath.replace(/\.wat$/, '');
  const parts = [`// Generated from ${name.split('/').pop()} by scripts/build-wasm.ts: do not edit.`, ...literal('WASM_BYTES', 'The compiled module', compile(source))];
  if (source.includes(IMPORTED_MEMORY)) {
    const shared = source.replace(IMPORTED_MEMORY, '(import "env" "memory" (memory 1 65536 shared))');
    parts.push(...literal('WASM_BYTES_SHARED', 'The same module for a shared memory', compile(shared, true)));
  }
  return { path: `${base}-wasm.ts`, text: [...parts, ''].join('\n') };
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
