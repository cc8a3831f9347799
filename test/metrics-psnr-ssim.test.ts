import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, type RawImage } from '../src/index';
import { psnr, rgbToY, ssim } from '../src/entries/metrics';
import { useBackend } from '../src/backends/use-backend';
import { rgbToYHost, rgbToYOps } from '../src/metrics/y-channel';
import { metricFixtures, toRaw, toUnit, type FixtureImage } from './fixtures/metrics/load';

const { images, pairs } = metricFixtures();
const asTensor = (f: FixtureImage): tf.Tensor3D => tf.tensor3d(toUnit(f), [f.height, f.width, f.channels]);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('psnr / ssim vs the numpy + scikit-image reference', () => {
  for (const p of pairs) {
    const a = images[p.a];
    const b = images[p.b];
    const opts = { yChannel: p.yChannel, crop: p.crop, quantize: p.quantize };
    if (a.dtype === 'uint8') {
      it(`${p.name} (RawImage path)`, async () => {
        expect(Math.abs((await psnr(toRaw(a), toRaw(b), opts)) - p.psnr)).toBeLessThan(1e-3);
        expect(Math.abs((await ssim(toRaw(a), toRaw(b), opts)) - p.ssim)).toBeLessThan(1e-4);
      });
    }
    it(`${p.name} (tensor path, [0,1] floats)`, async () => {
      const [ta, tb] = [asTensor(a), asTensor(b)];
      expect(Math.abs((await psnr(ta, tb, opts)) - p.psnr)).toBeLessThan(1e-3);
      expect(Math.abs((await ssim(ta, tb, opts)) - p.ssim)).toBeLessThan(1e-4);
      tf.dispose([ta, tb]);
    });
  }

  it('RawImages of other sample types: Float64Array in [0,1] and Uint8ClampedArray', async () => {
    const p = pairs.find((q) => q.name === 'u8 rgb y=True crop=4')!;
    const [a, b] = [images[p.a], images[p.b]];
    const fa = { data: Float64Array.from(a.data, (v) => v / 255), width: a.width, height: a.height, channels: 3 as const };
    const fb = { data: Float64Array.from(b.data, (v) => v / 255), width: b.width, height: b.height, channels: 3 as const };
    expect(await psnr(fa, fb, { yChannel: true, crop: 4 })).toBeCloseTo(p.psnr, 6);
    const ca = { data: Uint8ClampedArray.from(a.data), width: a.width, height: a.height, channels: 3 as const };
    const cb = { data: Uint8ClampedArray.from(b.data), width: b.width, height: b.height, channels: 3 as const };
    expect(await ssim(ca, cb, { yChannel: true, crop: 4 })).toBeCloseTo(p.ssim, 8);
  });

  it('maxVal rescales the input: data in [0, 2] with maxVal 2 scores like data in [0, 1]', async () => {
    const p = pairs.find((q) => q.name === 'float rgb y=True crop=3')!;
    const [a, b] = [images[p.a], images[p.b]];
    const twice = (f: FixtureImage) => ({ data: Float64Array.from(f.data, (v) => 2 * v), width: f.width, height: f.height, channels: 3 as const });
    expect(await psnr(twice(a), twice(b), { maxVal: 2, yChannel: true, crop: 3 })).toBeCloseTo(p.psnr, 8);
    expect(await ssim(twice(a), twice(b), { maxVal: 2, yChannel: true, crop: 3 })).toBeCloseTo(p.ssim, 8);
    // Without maxVal the doubled data is read as [0, 1] and the score changes.
    expect(Math.abs((await psnr(twice(a), twice(b), { yChannel: true, crop: 3 })) - p.psnr)).toBeGreaterThan(1);
  });

  it('a batch [N,H,W,C] scores the mean of its images', async () => {
    const p1 = pairs.find((q) => q.name === 'float rgb y=False crop=0')!;
    const u = pairs.find((q) => q.name === 'u8 rgb y=False crop=0')!;
    const [a1, b1, a2, b2] = [images[p1.a], images[p1.b], images[u.a], images[u.b]];
    const stack = (x: FixtureImage, y: FixtureImage) => tf.stack([asTensor(x), asTensor(y)]) as tf.Tensor4D;
    const [A, B] = [stack(a1, a2), stack(b1, b2)];
    expect(await psnr(A, B)).toBeCloseTo((p1.psnr + u.psnr) / 2, 4);
    expect(await ssim(A, B)).toBeCloseTo((p1.ssim + u.ssim) / 2, 5);
    tf.dispose([A, B]);
  });
});

describe('protocol details', () => {
  const gray = (w: number, h: number, f: (i: number) => number): RawImage => ({
    data: Uint8Array.from({ length: w * h }, (_, i) => f(i)),
    width: w,
    height: h,
    channels: 1,
    bits: 8,
  });

  it('identical images: PSNR Infinity, SSIM 1', async () => {
    const a = gray(16, 16, (i) => (i * 37) % 256);
    expect(await psnr(a, a)).toBe(Infinity);
    expect(await ssim(a, a)).toBeCloseTo(1, 12);
  });

  it('PSNR of a constant offset of 1 level is 20·log10(255) = 48.13 dB', async () => {
    const a = gray(12, 12, () => 100);
    const b = gray(12, 12, () => 101);
    expect(await psnr(a, b)).toBeCloseTo(20 * Math.log10(255), 10);
  });

  it('rgbToY: white -> 235/255, black -> 16/255 (BT.601 studio range)', async () => {
    const y = rgbToY(tf.tensor4d([1, 1, 1, 0, 0, 0], [1, 1, 2, 3]));
    expect(y.shape).toEqual([1, 1, 2, 1]);
    const d = await y.data();
    expect(d[0] * 255).toBeCloseTo(235, 4);
    expect(d[1] * 255).toBeCloseTo(16, 4);
    y.dispose();
    expect(() => rgbToY(tf.zeros([2, 2, 1]))).toThrow(ShapeError);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`rgbToY's one-op form equals the tensor-op form bit for bit, values and gradient, on ${backend}`, async () => {
      const previous = tf.getBackend();
      await useBackend(backend);
      try {
        const x = tf.randomUniform([2, 5, 7, 3], -0.2, 1.2, 'float32', 11);
        const dy = tf.randomNormal([2, 5, 7, 1], 0, 1, 'float32', 12);
        const before = tf.memory().numTensors;
        const [a, b] = [rgbToYHost(x), rgbToYOps(x)];
        expect(a.shape).toEqual([2, 5, 7, 1]);
        expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
        const ga = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(rgbToYHost(t), dy)))(x);
        const gb = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(rgbToYOps(t), dy)))(x);
        expect(ga.shape).toEqual(x.shape);
        expect(Array.from(ga.dataSync())).toEqual(Array.from(gb.dataSync()));
        tf.dispose([a, b, ga, gb]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, dy]);
      } finally {
        await tf.setBackend(previous);
      }
    });
  }

  it('quantize rounds float inputs to 8-bit levels first', async () => {
    const a = tf.fill([12, 12, 1], 100.4 / 255) as tf.Tensor3D;
    const b = tf.fill([12, 12, 1], 100 / 255) as tf.Tensor3D;
    expect(await psnr(a, b, { quantize: true })).toBe(Infinity);
    expect(await psnr(a, b)).toBeCloseTo(20 * Math.log10(255 / 0.4), 3);
    tf.dispose([a, b]);
  });

  it('clear typed errors for size mismatch, too-large crop and too-small SSIM input', async () => {
    const a = gray(16, 16, () => 1);
    await expect(psnr(a, gray(16, 15, () => 1))).rejects.toThrow(ShapeError);
    await expect(psnr(a, gray(16, 15, () => 1))).rejects.toThrow(/modCrop/);
    await expect(psnr(a, a, { crop: 8 })).rejects.toThrow(ConfigError);
    await expect(ssim(a, gray(16, 16, () => 2), { crop: 3 })).rejects.toThrow(/at least 11x11/);
    await expect(psnr(a, a, { maxVal: 0 })).rejects.toThrow(ConfigError);
    await expect(psnr(a, { data: new Uint8Array(3), width: 16, height: 16, channels: 1 })).rejects.toThrow(ShapeError);
  });
});
