import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { ConfigError, ModelError } from '../src/errors';
import { growStudent } from '../src/models/grow';
import { getModelInfo } from '../src/models/metadata';
import { rgbToY } from '../src/metrics/y-channel';
import { buildStudent } from '../src/models/student';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Gives every weight a visible value (PReLU slopes and biases included). */
function randomize(model: tfl.LayersModel, seed: number): void {
  model.weights.forEach((w, i) => (w as unknown as { write(v: tf.Tensor): void }).write(tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', seed + i)));
}

function maxAbsDiff(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor4D): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor))).dataSync()[0]);
}

describe('growStudent (Net2Net)', () => {
  let x: tf.Tensor4D;
  beforeAll(() => {
    x = tf.randomUniform([1, 9, 11, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  });

  it.each([
    { scale: 2 as const, unshuffle: 1 as const },
    { scale: 1 as const, unshuffle: 2 as const },
    { scale: 4 as const, unshuffle: 1 as const, detail: 'luma' as const },
    { scale: 2 as const, unshuffle: 1 as const, preluSlopes: 'layer' as const },
  ])('grows a compact net wider and deeper with the same function (x$scale, unshuffle $unshuffle, detail $detail, slopes $preluSlopes)', async ({ scale, unshuffle, detail, preluSlopes }) => {
    const small = buildStudent({ arch: 'compact', scale, width: 4, depth: 2, unshuffle, detail, preluSlopes, seed: 1 });
    randomize(small, 10);
    const before = tf.memory().numTensors;
    const big = await growStudent(small, { width: 7, depth: 4, noise: 0, seed: 2 });
    expect(big.getLayer('body1').getWeights()[0].shape).toEqual([3, 3, 7, 7]);
    expect(big.getLayer('body4').getWeights()[0].shape).toEqual([3, 3, 7, 7]);
    expect(big.getLayer('body4_prelu').getWeights()[0].shape).toEqual(preluSlopes === 'layer' ? [1, 1, 1] : [1, 1, 7]);
    const info = getModelInfo(big);
    expect(info.options).toMatchObject({ width: 7, depth: 4, grownFrom: { width: 4, depth: 2 } });
    expect(maxAbsDiff(small, big, x)).toBeLessThan(1e-5);
    // The grown model's own weights are the only new tensors.
    expect(tf.memory().numTensors - before).toBe(big.weights.length);
    small.dispose();
    big.dispose();
  });

  it("converts RGB detail to luma detail with the same Y, and luma back to RGB exactly", async () => {
    const rgb = buildStudent({ arch: 'compact', scale: 4, width: 4, depth: 2, seed: 1 });
    randomize(rgb, 20);
    const luma = await growStudent(rgb, { depth: 3, detail: 'luma', noise: 0 });
    expect(luma.getLayer('subpixel_conv').getWeights()[0].shape).toEqual([3, 3, 4, 16]);
    expect(getModelInfo(luma).options).toMatchObject({ detail: 'luma', grownFrom: { detail: 'rgb' } });
    const yDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(rgbToY(rgb.predict(x) as tf.Tensor), rgbToY(luma.predict(x) as tf.Tensor)))).dataSync()[0]);
    expect(yDiff).toBeLessThan(1e-5);
    expect(maxAbsDiff(rgb, luma, x)).toBeGreaterThan(1e-3); // the chroma correction is gone
    const back = await growStudent(luma, { detail: 'rgb', noise: 0 });
    expect(maxAbsDiff(luma, back, x)).toBeLessThan(1e-5);
    for (const m of [rgb, luma, back]) m.dispose();
  });

  it('breaks the symmetry of copied channels with noise relative to the layer (small, seeded)', async () => {
    const small = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, seed: 1 });
    randomize(small, 20);
    const a = await growStudent(small, { width: 8, noise: 0.01, seed: 3 });
    const b = await growStudent(small, { width: 8, noise: 0.01, seed: 3 });
    const d = maxAbsDiff(small, a, x);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.05);
    expect(maxAbsDiff(a, b, x)).toBe(0);
    // A copied channel differs from its original only by the noise.
    const k = a.getLayer('body0').getWeights()[0].arraySync() as number[][][][];
    const copies = [4, 5, 6, 7].map((j) => k[1][1][0][j]);
    expect(copies.every((v) => !(k[1][1][0] as number[]).slice(0, 4).includes(v))).toBe(true);
    [small, a, b].forEach((m) => m.dispose());
  });

  it('merges a re-parameterizable source first', async () => {
    const rep = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, reparam: true, seed: 1 });
    randomize(rep, 30);
    const big = await growStudent(rep, { width: 6, depth: 2, noise: 0 });
    expect(big.layers.some((l) => l.getClassName() === 'RepConv2D')).toBe(false);
    expect(getModelInfo(big).options).toMatchObject({ grownFrom: { width: 4, depth: 1, trainedWithReparam: true } });
    expect(maxAbsDiff(rep, big, x)).toBeLessThan(1e-4);
    rep.dispose();
    big.dispose();
  });

  it('copies a net with global gates at its size (gates included) and refuses to grow it', async () => {
    const gated = buildStudent({ arch: 'compact', scale: 1, width: 4, depth: 2, unshuffle: 2, detail: 'luma', globalGates: true, seed: 1 });
    randomize(gated, 20);
    const copy = await growStudent(gated, { noise: 0 });
    expect(getModelInfo(copy).options).toMatchObject({ globalGates: true });
    expect(maxAbsDiff(gated, copy, x)).toBeLessThan(1e-6);
    await expect(growStudent(gated, { width: 8 })).rejects.toThrow(/keeps a net with global gates at its size \(4×2\), got 8×2/);
    await expect(growStudent(gated, { depth: 3 })).rejects.toThrow(ModelError);
    gated.dispose();
    copy.dispose();
  });

  it('refuses to shrink, negative noise and non-compact students', async () => {
    const small = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 2, seed: 1 });
    await expect(growStudent(small, { width: 3 })).rejects.toThrow(ConfigError);
    await expect(growStudent(small, { depth: 1 })).rejects.toThrow(/depth must be an integer ≥ the source's 2/);
    await expect(growStudent(small, { noise: -1 })).rejects.toThrow(ConfigError);
    const espcn = buildStudent({ arch: 'espcn', scale: 2, width: 4 });
    await expect(growStudent(espcn, { width: 8 })).rejects.toThrow(ModelError);
    small.dispose();
    espcn.dispose();
  });
});
