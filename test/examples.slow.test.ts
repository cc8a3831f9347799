/**
 * The Node examples in examples/, run the way a user runs them (`npx tsx examples/<name>.ts`), importing
 * 'sharpen-kd' through the package's own exports map, i.e. the built dist/ (`npm run build` first). Small settings
 * keep the whole file around a minute on 2 cores. `npm run examples:test` runs it; in the slow suite it is skipped
 * when dist/ is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage, writeImage } from '../src/io/node-image';
import { proceduralImage } from '../src/data/procedural';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(repo, 'dist/index.js'));
if (!built && process.env.SHARPEN_KD_EXAMPLES_STRICT === '1') throw new Error('examples run against the built library: run `npm run build` first');
const shipped = existsSync(path.join(repo, 'models/x4/model.json'));

let tmp: string;
// The examples look for the shipped models in models/ (the package folder), not in a SHARPEN_KD_MODELS override.
const childEnv = { ...process.env };
delete childEnv.SHARPEN_KD_MODELS;

/** Runs an example with tsx and the examples' tsconfig (no path mapping: 'sharpen-kd' resolves to dist/). */
async function example(name: string, args: string[] = []): Promise<string> {
  const tsx = path.join(repo, 'node_modules/.bin/tsx');
  try {
    const { stdout, stderr } = await run(tsx, ['--tsconfig', 'examples/tsconfig.json', `examples/${name}.ts`, ...args], {
      cwd: repo,
      maxBuffer: 64 << 20,
      env: childEnv,
    });
    return `${stdout}\n${stderr}`;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    // The wasm backend prints its whole module source with uncaught errors: keep the end.
    throw new Error(`examples/${name}.ts failed: ${err.message.slice(0, 300)}\n${(err.stdout ?? '').slice(-3000)}\n${(err.stderr ?? '').slice(-3000)}`);
  }
}

const number = (out: string, re: RegExp): number => {
  const m = re.exec(out);
  if (!m) throw new Error(`no match for ${re} in:\n${out}`);
  return Number(m[1]);
};

describe.skipIf(!built)('examples (against the built package)', () => {
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-examples-'));
  });
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("'sharpen-kd' resolves to dist/ from examples/ (package self-reference), and the examples typecheck against its types", async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('sharpen-kd'))"], { cwd: path.join(repo, 'examples') });
    expect(stdout.trim()).toBe(`file://${path.join(repo, 'dist/index.js')}`);
    const tsc = await run(path.join(repo, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'examples/tsconfig.json'], { cwd: repo }).catch((e: { stdout?: string }) => e);
    expect((tsc as { stdout?: string }).stdout ?? '').toBe('');
  });

  it('quickstart: sharpens the synthetic test card, prints PSNR / SSIM / fps, writes the images', async () => {
    const out = await example('quickstart', ['--out', path.join(tmp, 'qs')]);
    const name = shipped ? 'x4' : 'bicubic';
    if (!shipped) expect(out).toContain("Falling back to 'bicubic'");
    const bicubic = number(out, /^bicubic\s+PSNR ([\d.]+) dB/m);
    const model = number(out, new RegExp(`^${name}\\s+PSNR ([\\d.]+) dB\\s+SSIM [\\d.]+\\s*$`, 'm'));
    expect(bicubic).toBeGreaterThan(15);
    // The bicubic "model" is float interpolation, the baseline is MATLAB imresize on uint8: within 0.1 dB.
    if (shipped) expect(model).toBeGreaterThan(bicubic);
    else expect(Math.abs(model - bicubic)).toBeLessThan(0.1);
    expect(number(out, /speed: ([\d.]+) fps/)).toBeGreaterThan(0);
    const sr = await readImage(path.join(tmp, 'qs', `quickstart-${name}.png`));
    expect([sr.width, sr.height]).toEqual([512, 512]);
  });

  it('quickstart: takes an image path', async () => {
    const img = proceduralImage(5, 203, 150); // not a multiple of 4: mod-cropped to 200x148
    const file = path.join(tmp, 'photo.png');
    await writeImage(file, { data: img.data as Uint8Array, width: 203, height: 150, channels: 3, bits: 8 });
    const out = await example('quickstart', [file, '--out', path.join(tmp, 'qs2')]);
    expect(out).toContain(`input: ${file} — 200x148, downscaled to 50x37`);
    const lr = await readImage(path.join(tmp, 'qs2', 'quickstart-lr.png'));
    expect([lr.width, lr.height]).toEqual([50, 37]);
  });

  it('distill: trains a teacher, distills a student, exports and reloads it', async () => {
    const dir = path.join(tmp, 'distill');
    const out = await example('distill', ['--teacher-steps', '30', '--steps', '40', '--out', dir]);
    for (const row of ['bicubic', 'teacher', 'student']) expect(number(out, new RegExp(`^\\s+${row}\\s+([\\d.]+) dB`, 'm'))).toBeGreaterThan(15);
    expect(out).toContain('cached the teacher');
    expect(existsSync(path.join(dir, 'model-best', 'model.json'))).toBe(true);
    const sr = await readImage(path.join(dir, 'sharpened.png'));
    expect([sr.width, sr.height]).toEqual([256, 256]);
  });

  it('custom-teacher: adopts ESRGAN-slim and distills a few steps from it', async () => {
    const out = await example('custom-teacher', ['--steps', '12', '--out', path.join(tmp, 'ct')]);
    expect(number(out, /teacher \(ESRGAN-slim\): (\d+) parameters/)).toBeGreaterThan(100_000);
    expect(out).toMatch(/teacher outputs cached for 256 patches/);
    for (const row of ['bicubic', 'teacher', 'student \\(distilled\\)']) expect(number(out, new RegExp(`^\\s+${row}\\s+([\\d.]+) dB`, 'm'))).toBeGreaterThan(15);
    expect(out).toMatch(/step 12\/12/);
  });

  it('benchmark: every engine side by side with the sharp reference', async () => {
    const out = await example('benchmark', ['--size', '320x180', '--runs', '3']);
    for (const engine of ['wasm', 'cpu']) expect(number(out, new RegExp(`^${engine}\\s+[\\d.]+ ms\\s+([\\d.]+) fps`, 'm'))).toBeGreaterThan(0);
    // onnxruntime-node is a dev dependency here: ONNX Runtime must have run too.
    expect(number(out, /^onnx\s+[\d.]+ ms\s+([\d.]+) fps/m)).toBeGreaterThan(0);
    expect(out).toMatch(/reference: sharp resize cubic \d+ fps/);
  });
});
