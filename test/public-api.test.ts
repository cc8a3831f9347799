/**
 * The public API: a small root entry ('sharpen-kd') and one subpath entry per concept ('sharpen-kd/train', …).
 * The root's runtime names are pinned here, so that growing it is a decision; every entry is wired the same way in
 * package.json "exports", tsup.config.ts and typedoc.json; and, when dist/ is built, every entry imports from ESM and
 * requires from CJS, sharing one copy of the code. scripts/check-package.sh repeats the last part on the packed tarball.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; typesVersions: Record<string, Record<string, string[]>> };
const SUBPATHS = readdirSync(path.join(repo, 'src/entries'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

/** The root's runtime exports. Types do not count (they have no runtime name); keep them tidy in src/index.ts. */
const ROOT = [
  // errors
  'SharpenError', 'BackendError', 'InputError', 'ShapeError', 'AbortError', 'NanLossError', 'ConfigError', 'IoError', 'ModelError',
  // sharpening
  'useBackend', 'provideOnnxRuntime', 'Student', 'sharpenFiles', 'sharpenVideo', 'TemporalFilter', 'readImage', 'writeImage',
  // models
  'buildStudent', 'buildTeacher', 'buildEmt', 'loadPretrainedTeacher', 'loadModel', 'saveModel', 'loadTorchWeights', 'exportOnnx',
  // training
  'openDataset', 'train', 'distill',
  // quality and speed
  'psnr', 'ssim', 'evaluateStudent', 'benchmarkFps',
];

describe('public API', () => {
  it(`the root entry exports ${ROOT.length} names (at most 40), the pinned list`, async () => {
    const root = await import('../src/index');
    const names = Object.keys(root).sort();
    expect(names.length).toBeLessThanOrEqual(40);
    expect(names, 'src/index.ts changed: the root stays small; put the name in its subpath entry (src/entries/), or update this list if it belongs in the root').toEqual([...ROOT].sort());
  });

  it('every subpath entry is in package.json "exports" (ESM + CJS + types) and "typesVersions", tsup.config.ts and typedoc.json', () => {
    expect(SUBPATHS).toEqual(['data', 'metrics', 'models', 'onnx', 'train', 'wasm']);
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './package.json', ...SUBPATHS.map((s) => `./${s}`)].sort());
    // TypeScript's node10 resolution ignores "exports": "typesVersions" points it at each entry's types.
    expect(pkg.typesVersions).toEqual({ '*': Object.fromEntries(SUBPATHS.map((s) => [s, [`./dist/${s}.d.ts`]])) });
    const tsup = readFileSync(path.join(repo, 'tsup.config.ts'), 'utf8');
    const typedoc = JSON.parse(readFileSync(path.join(repo, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
    for (const [key, file] of [['index', '.'], ...SUBPATHS.map((s) => [s, `./${s}`])]) {
      expect(pkg.exports[file]).toEqual({
        import: { types: `./dist/${key}.d.ts`, default: `./dist/${key}.js` },
        require: { types: `./dist/${key}.d.cts`, default: `./dist/${key}.cjs` },
      });
      const src = key === 'index' ? 'src/index.ts' : `src/entries/${key}.ts`;
      expect(tsup).toContain(`${key}: '${src}'`);
      expect(typedoc.entryPoints).toContain(src);
    }
  });

  it('every subpath entry module loads from src/ and exports something; the root re-exports the same objects', async () => {
    const root = (await import('../src/index')) as Record<string, unknown>;
    for (const sub of SUBPATHS) {
      const m = (await import(`../src/entries/${sub}.ts`)) as Record<string, unknown>;
      expect(Object.keys(m).length, sub).toBeGreaterThan(0);
      for (const [name, value] of Object.entries(m)) if (name in root) expect(root[name], `${name} in sharpen-kd/${sub}`).toBe(value);
    }
  });

  const built = existsSync(path.join(repo, 'dist/index.js')) && existsSync(path.join(repo, 'dist/index.cjs'));
  if (!built) console.log('public-api: dist/ is not built, skipping the built-entry checks (`npm run build`; scripts/check-package.sh checks the packed tarball)');
  it.skipIf(!built)('built: every entry imports from ESM and requires from CJS, with its types, sharing one copy of the code', async () => {
    const missing = SUBPATHS.flatMap((s) => [`${s}.js`, `${s}.cjs`, `${s}.d.ts`, `${s}.d.cts`]).filter((f) => !existsSync(path.join(repo, 'dist', f)));
    if (missing.length > 0) {
      console.log(`public-api: dist/ predates the subpath entries (missing ${missing.join(', ')}): run \`npm run build\``);
      return;
    }
    const require = createRequire(path.join(repo, 'package.json'));
    const esmRoot = (await import(pathToFileURL(path.join(repo, 'dist/index.js')).href)) as Record<string, unknown>;
    const cjsRoot = require('./dist/index.cjs') as Record<string, unknown>;
    expect(Object.keys(esmRoot).length).toBeLessThanOrEqual(40);
    expect(Object.keys(cjsRoot).sort()).toEqual(Object.keys(esmRoot).sort());
    for (const sub of SUBPATHS) {
      const esm = (await import(pathToFileURL(path.join(repo, `dist/${sub}.js`)).href)) as Record<string, unknown>;
      const cjs = require(`./dist/${sub}.cjs`) as Record<string, unknown>;
      expect(Object.keys(esm).length, sub).toBeGreaterThan(0);
      expect(Object.keys(cjs).sort(), sub).toEqual(Object.keys(esm).sort());
      for (const name of Object.keys(esm)) {
        if (name in esmRoot) expect(esmRoot[name], `${name}: sharpen-kd and sharpen-kd/${sub} (ESM)`).toBe(esm[name]);
        if (name in cjsRoot) expect(cjsRoot[name], `${name}: sharpen-kd and sharpen-kd/${sub} (CJS)`).toBe(cjs[name]);
      }
    }
  });
});
