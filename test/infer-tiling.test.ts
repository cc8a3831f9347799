import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { receptiveField } from '../src/infer/receptive-field';
import { describeModel } from '../src/models/describe';
import { buildStudent } from '../src/models/student';
import { tfjsRunner, bicubicRunner } from '../src/infer/runners';
import { runTiled } from '../src/infer/tile-engine';
import { planSpans, spanWeights } from '../src/infer/tile-plan';
import type { RawImage } from '../src/io/raw-image';
import { upscaleBicubic } from '../src/metrics/resize-tensor';
import { maxAbsDiff, predictWhole, testImage, tinyEspcn } from './infer-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('tile plan', () => {
  it('covers every pixel and the weights sum to 1', () => {
    for (const [len, tile] of [[100, 40], [41, 40], [257, 64], [30, 40]] as const) {
      const p = { tile, margin: 3, feather: 4, align: 1 };
      const spans = planSpans(len, p);
      expect(spans[0].start).toBe(0);
      expect(spans[spans.length - 1].end).toBe(len);
      for (let i = 1; i < spans.length; i++) expect(spans[i - 1].end - spans[i].start).toBeGreaterThanOrEqual(2 * p.margin + p.feather);
      const w = spanWeights(spans, len, p, 2);
      const sum = new Float64Array(len * 2);
      spans.forEach((s, i) => w[i].forEach((v, k) => (sum[s.start * 2 + k] += v)));
      for (const v of sum) expect(v).toBeCloseTo(1, 5);
    }
  });

  it('rejects a tile too small for the margin', () => {
    expect(() => planSpans(100, { tile: 10, margin: 5, feather: 4, align: 1 })).toThrow(/at least 15/);
  });
});

describe('receptive field', () => {
  it('sums the conv radii (5x5, 3x3, 3x3 = 4) and adds bilinear residual reach', () => {
    expect(receptiveField(tinyEspcn(2)).radius).toBe(4);
    expect(receptiveField(tinyEspcn(3, { interpolation: 'bilinear' })).radius).toBe(4);
    expect(receptiveField(tinyEspcn(2)).unknownLayers).toEqual([]);
  });

  it('bounds describeModel\'s receptive field for every student architecture, with no unknown layers', () => {
    for (const arch of ['espcn', 'fsrcnn', 'compact'] as const) {
      for (const scale of [1, 2, 4] as const) {
        const m = buildStudent({ arch, scale, width: 4, ...(arch === 'espcn' ? {} : { depth: 2 }) });
        const rf = receptiveField(m);
        expect(rf.unknownLayers, `${arch} x${scale}`).toEqual([]);
        expect(rf.radius, `${arch} x${scale}`).toBeGreaterThanOrEqual((describeModel(m, { inputSize: [16, 16] }).receptiveField - 1) / 2);
        m.dispose();
      }
    }
  });
});

describe('tiled == whole image', () => {
  for (const scale of [1, 2, 3]) {
    it(`x${scale}: small tiles, odd sizes, within 1/255 (in fact ~1e-6)`, async () => {
      const model = tinyEspcn(scale, { interpolation: scale === 3 ? 'bilinear' : 'nearest' });
      const [h, w] = [37, 53];
      const img = testImage(h, w, scale);
      const whole = await predictWhole(model, img, h, w);
      const margin = Math.ceil(receptiveField(model).radius) + 1;
      const src: RawImage<Float32Array> = { data: img, width: w, height: h, channels: 3 };
      const dst: RawImage<Float32Array> = { data: new Float32Array(whole.length), width: w * scale, height: h * scale, channels: 3 };
      let tiles = 0;
      await runTiled(tfjsRunner(model, scale), src, dst, 'color', { tile: 20, margin, feather: 3, align: 1 }, { onProgress: (p) => (tiles = p.total ?? 0) });
      expect(tiles).toBeGreaterThan(4);
      expect(maxAbsDiff(dst.data, whole)).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it('compact with pixel unshuffle 4 (x1): tiles aligned to its blocks are exact', async () => {
    const model = buildStudent({ arch: 'compact', scale: 1, width: 6, depth: 2, unshuffle: 4, seed: 5 });
    // Make the body matter: the last conv starts near zero (output ~ input) by design.
    const last = model.getLayer('subpixel_conv');
    const [k, b] = last.getWeights();
    const big = tf.randomNormal(k.shape, 0, 0.3, 'float32', 6);
    last.setWeights([big, b]);
    big.dispose();
    const rf = receptiveField(model);
    expect(rf.align).toBe(4);
    expect(rf.unknownLayers).toEqual([]);
    const [h, w] = [71, 58];
    const img = testImage(h, w, 4);
    const whole = await predictWhole(model, img, h, w);
    const src: RawImage<Float32Array> = { data: img, width: w, height: h, channels: 3 };
    const dst: RawImage<Float32Array> = { data: new Float32Array(whole.length), width: w, height: h, channels: 3 };
    let tiles = 0;
    const margin = Math.ceil(rf.radius) + 1;
    await runTiled(tfjsRunner(model, 1), src, dst, 'color', { tile: 52, margin, feather: 2, align: rf.align }, { onProgress: (p) => (tiles = p.total ?? 0) });
    expect(tiles).toBeGreaterThan(1);
    expect(maxAbsDiff(dst.data, whole)).toBeLessThan(1e-5);
    expect(maxAbsDiff(whole, img)).toBeGreaterThan(1e-2); // not the identity
    model.dispose();
  });

  it('non-square tiles (short tile rows) are exact too', async () => {
    const model = tinyEspcn(2);
    const [h, w] = [45, 31];
    const img = testImage(h, w, 9);
    const whole = await predictWhole(model, img, h, w);
    const src: RawImage<Float32Array> = { data: img, width: w, height: h, channels: 3 };
    const dst: RawImage<Float32Array> = { data: new Float32Array(whole.length), width: w * 2, height: h * 2, channels: 3 };
    let n = 0;
    await runTiled(tfjsRunner(model, 2), src, dst, 'color', { tile: 26, tileHeight: 17, margin: 5, feather: 2, align: 1 }, { onProgress: (p) => (n = p.total ?? 0) });
    expect(n).toBe(2 * 7); // 2 columns of 26 x 7 rows of 17 (stride 17 - 2·5 - 2 = 5)
    expect(maxAbsDiff(dst.data, whole)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('a too-small margin is visibly wrong (the test can fail)', async () => {
    const model = tinyEspcn(2);
    const [h, w] = [30, 30];
    const img = testImage(h, w, 7);
    const whole = await predictWhole(model, img, h, w);
    const src: RawImage<Float32Array> = { data: img, width: w, height: h, channels: 3 };
    const dst: RawImage<Float32Array> = { data: new Float32Array(whole.length), width: w * 2, height: h * 2, channels: 3 };
    await runTiled(tfjsRunner(model, 2), src, dst, 'color', { tile: 12, margin: 0, feather: 1, align: 1 });
    expect(maxAbsDiff(dst.data, whole)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('bicubic runner: tiled == whole, and writes 8-bit alpha', async () => {
    const [h, w] = [23, 31];
    const img = testImage(h, w, 3);
    const wholeT = upscaleBicubic(tf.tensor3d(img, [h, w, 3]), 2);
    const whole = await wholeT.data();
    wholeT.dispose();
    const src: RawImage<Float32Array> = { data: img, width: w, height: h, channels: 3 };
    const dst: RawImage<Float32Array> = { data: new Float32Array(whole.length), width: w * 2, height: h * 2, channels: 3 };
    await runTiled(bicubicRunner(2), src, dst, 'color', { tile: 12, margin: 3, feather: 2, align: 1 });
    expect(maxAbsDiff(dst.data, whole)).toBeLessThan(1e-5);
  });
});
