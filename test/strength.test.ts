// Sharpening strength: out = base + strength·(model − base), base = the input (x1) or its bicubic upscale (x2/x4).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proceduralImage } from '../src/data/procedural';
import { ConfigError } from '../src/errors';
import { sharpenFiles } from '../src/infer/batch';
import { checkStrength } from '../src/infer/strength';
import { Student } from '../src/infer/student';
import { readImage, writeImage } from '../src/io/node-image';
import type { RawImage } from '../src/io/raw-image';
import { buildStudent } from '../src/models/student';
import { runCli } from './cli-process';


function synthetic(seed: number, w: number, h: number): RawImage {
  const img = proceduralImage(seed, w, h);
  return { data: img.data as Uint8Array, width: w, height: h, channels: 3, bits: 8 };
}

/** A student whose output differs clearly from its input: the last conv's weights scaled up. */
function loudStudent(scale: 1 | 2): Promise<Student> {
  const model = buildStudent({ arch: 'compact', scale, width: 8, depth: 2, seed: 3 });
  const last = model.getLayer('subpixel_conv');
  last.setWeights(last.getWeights().map((w) => tf.mul(w, 20)));
  return Student.fromModel(model, { backend: 'cpu' });
}

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-strength-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('strength', () => {
  const img = synthetic(2, 40, 36);

  it('x1: 0 returns the input, 1 the model, 0.5 exactly the midpoint of the float outputs; tiled or whole', async () => {
    using s = await loudStudent(1);
    const full = await s.sharpen(img);
    expect(Array.from((await s.sharpen(img, { strength: 1 })).data)).toEqual(Array.from(full.data));
    expect(Array.from((await s.sharpen(img, { strength: 0 })).data)).toEqual(Array.from(img.data));
    let changed = 0;
    for (let i = 0; i < img.data.length; i++) if (full.data[i] !== img.data[i]) changed++;
    expect(changed).toBeGreaterThan(img.data.length / 4);
    // Float in and out (a tensor, no rounding or clamping): exactly the blend, whole or tiled.
    const t = tf.tensor3d(Float32Array.from(img.data, (v) => v / 255), [36, 40, 3]);
    for (const tile of [undefined, 32]) {
      const m = await s.sharpen(t, { tile });
      const half = await s.sharpen(t, { strength: 0.5, tile });
      const want = tf.div(tf.add(t, m), 2);
      expect(Math.max(...(await tf.abs(tf.sub(half, want)).data()))).toBeLessThan(1e-5);
      tf.dispose([m, half, want]);
    }
    const t0 = await s.sharpen(t, { strength: 0 });
    expect(Math.max(...(await tf.abs(tf.sub(t0, t)).data()))).toBeLessThan(1e-6);
    tf.dispose([t, t0]);
  });

  it('x2: 0 is the bicubic upscale, 1 the model', async () => {
    using s = await loudStudent(2);
    using bicubic = await Student.load('bicubic', { scale: 2, backend: 'cpu' });
    const zero = await s.sharpen(img, { strength: 0 });
    expect([zero.width, zero.height]).toEqual([80, 72]);
    expect(Array.from(zero.data)).toEqual(Array.from((await bicubic.sharpen(img)).data));
    expect(Array.from((await s.sharpen(img, { strength: 1 })).data)).toEqual(Array.from((await s.sharpen(img)).data));
  });

  it('rejects a strength outside [0, 1] with a ConfigError, before any work', async () => {
    using s = await loudStudent(1);
    for (const bad of [-0.1, 1.5, Number.NaN, Infinity]) {
      await expect(s.sharpen(img, { strength: bad })).rejects.toThrow(ConfigError);
      expect(() => checkStrength(bad)).toThrow(/strength must be a number from 0 to 1/);
    }
    await expect(sharpenFiles(s, ['nothing-here.png'], { output: tmp, strength: 2 })).rejects.toThrow(ConfigError);
    expect(checkStrength(undefined)).toBe(1);
  });
});

describe('sharpen-kd sharpen --strength', () => {
  it('0 writes the input unchanged (x1); out-of-range values are refused; the help points to the picture', async () => {
    const src = path.join(tmp, 'in.png');
    await writeImage(src, synthetic(5, 33, 29));
    const out = path.join(tmp, 'out.png');
    const ok = await runCli('sharpen', src, '-o', out, '-s', '1', '--strength', '0', '--backend', 'wasm');
    expect(ok.code, ok.err).toBe(0);
    expect(Array.from((await readImage(out)).data)).toEqual(Array.from((await readImage(src)).data));
    for (const bad of ['1.5', '-1', 'abc', '']) {
      const r = await runCli('sharpen', src, '-o', path.join(tmp, 'x.png'), '-s', '1', '--strength', bad);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/--strength must be a number from 0 to 1/);
    }
    const help = await runCli('sharpen', '--help');
    expect(help.out).toMatch(/--strength <x>/);
    expect(help.out).toMatch(/docs\/strength\.png/);
  }, 120_000);
});
