import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, useBackend, type RawImage } from '../src/index';
import { imresizeFloat, modCrop, resizeBicubic, resizeBicubicTensor, upscaleBicubic } from '../src/entries/metrics';
import { bicubicTaps } from '../src/metrics/imresize';
import { resizeCases, toRaw, toUnit, type ResizeCase } from './fixtures/metrics/load';

const cases = resizeCases();
const intCases = cases.filter((c) => c.input.dtype !== 'float64');
const floatCases = cases.filter((c) => c.input.dtype === 'float64');
const target = (c: ResizeCase): number | [number, number] => c.outputSize ?? (c.scale as number);

/** Max abs difference in levels and the fraction of identical samples. */
function compareLevels(got: ArrayLike<number>, want: ArrayLike<number>): { maxDiff: number; same: number } {
  expect(got.length).toBe(want.length);
  let maxDiff = 0;
  let same = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxDiff = Math.max(maxDiff, d);
    if (d === 0) same++;
  }
  return { maxDiff, same: same / want.length };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('bicubicTaps (MATLAB contributions)', () => {
  it('x2 downscale with antialiasing widens the kernel to 8 taps, rows sum to 1, symmetric boundary', () => {
    const t = bicubicTaps(8, 4, 0.5, true);
    expect(t.taps).toBe(8);
    for (let o = 0; o < 4; o++) {
      let s = 0;
      for (let k = 0; k < t.taps; k++) s += t.weights[o * t.taps + k];
      expect(s).toBeCloseTo(1, 12);
    }
    // First output centre u = 1.5 (1-based): taps 1-based -2..5 -> mirrored 0-based [2,1,0,0,1,2,3,4]
    expect(Array.from(t.indices.subarray(0, 8))).toEqual([2, 1, 0, 0, 1, 2, 3, 4]);
  });
  it('upscaling keeps the a=-0.5 cubic: weights at quarter offsets', () => {
    const t = bicubicTaps(10, 20, 2, true);
    // u for output 5 (1-based) = 5/2 + 0.5(1 - 1/2) = 2.75: distances 1.75, 0.75, -0.25, -1.25
    const row = Array.from(t.weights.subarray(4 * t.taps, 5 * t.taps)).filter((w) => w !== 0);
    expect(row[0]).toBeCloseTo(-0.5 * 1.75 ** 3 + 2.5 * 1.75 ** 2 - 4 * 1.75 + 2, 12);
    expect(row[1]).toBeCloseTo(1.5 * 0.75 ** 3 - 2.5 * 0.75 ** 2 + 1, 12);
  });
});

describe('resizeBicubic on RawImage vs the numpy MATLAB port', () => {
  for (const c of intCases) {
    it(c.name, () => {
      const out = resizeBicubic(toRaw(c.input), target(c), { antialias: c.antialias });
      expect([out.height, out.width, out.channels, out.bits]).toEqual([c.expected.height, c.expected.width, c.expected.channels, c.input.dtype === 'uint16' ? 16 : 8]);
      const { maxDiff, same } = compareLevels(out.data, c.expected.data);
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(same).toBeGreaterThanOrEqual(0.99);
    });
  }
});

describe('imresizeFloat (float64) vs the numpy MATLAB port', () => {
  for (const c of floatCases) {
    it(c.name, () => {
      const input = { data: Float64Array.from(c.input.data), width: c.input.width, height: c.input.height, channels: c.input.channels as RawImage['channels'] };
      const out = imresizeFloat(input, target(c), { antialias: c.antialias });
      expect([out.height, out.width]).toEqual([c.expected.height, c.expected.width]);
      expect(compareLevels(out.data, c.expected.data).maxDiff).toBeLessThan(1e-7);
    });
  }
});

describe('resizeBicubicTensor (float32 on the backend)', () => {
  const methods = ['js', 'matmul', 'gather'] as const;
  for (const c of floatCases) {
    it(`${c.name} matches to 1e-5 (every method)`, async () => {
      const x = tf.tensor3d(toUnit(c.input), [c.input.height, c.input.width, c.input.channels]);
      for (const method of methods) {
        const y = resizeBicubic(x, target(c), { antialias: c.antialias, method });
        expect(y.shape).toEqual([c.expected.height, c.expected.width, c.expected.channels]);
        expect(compareLevels(await y.data(), c.expected.data).maxDiff, method).toBeLessThan(1e-5);
        y.dispose();
      }
      x.dispose();
    });
  }
  for (const c of intCases.filter((k) => k.input.dtype === 'uint8')) {
    it(`${c.name} with round: true reproduces MATLAB's uint8 output (every method)`, async () => {
      const x = tf.tensor4d(toUnit(c.input), [1, c.input.height, c.input.width, c.input.channels]);
      for (const method of methods) {
        const y = resizeBicubicTensor(x, target(c), { antialias: c.antialias, round: true, method });
        const levels = Array.from(await y.data(), (v) => Math.round(v * 255));
        const { maxDiff, same } = compareLevels(levels, c.expected.data);
        expect(maxDiff, method).toBeLessThanOrEqual(1);
        expect(same, method).toBeGreaterThanOrEqual(0.99);
        y.dispose();
      }
      x.dispose();
    });
  }

  it('batches: each image of [N,H,W,C] is resized independently', async () => {
    const c = floatCases[0];
    const one = toUnit(c.input);
    const batch = new Float32Array(one.length * 2);
    batch.set(one);
    batch.set(one.map((v) => 1 - v), one.length);
    const x = tf.tensor4d(batch, [2, c.input.height, c.input.width, 3]);
    const y = resizeBicubicTensor(x, target(c));
    const d = await y.data();
    const half = d.length / 2;
    for (let i = 0; i < half; i += 7) {
      expect(d[i]).toBeCloseTo(c.expected.data[i], 5);
      expect(d[half + i]).toBeCloseTo(1 - c.expected.data[i], 5);
    }
    tf.dispose([x, y]);
  });

  it('does not leak tensors across repeated calls', () => {
    const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      for (const method of ['js', 'matmul', 'gather'] as const) tf.dispose([resizeBicubicTensor(x, 1 / 4, { method }), resizeBicubicTensor(x, 2, { method })]);
      upscaleBicubic(x, 2).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('resizeBicubicTensor on wasm', () => {
  it('is differentiable with method matmul (same gradient on cpu and wasm)', async () => {
    const grad = async () => {
      const x = tf.randomUniform([2, 12, 10, 3], 0, 1, 'float32', 9);
      const w = tf.randomUniform([2, 6, 5, 3], 0, 1, 'float32', 10);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resizeBicubicTensor(t as tf.Tensor4D, 1 / 2, { method: 'matmul' }), w)))(x);
      const d = await g.data();
      tf.dispose([x, w, g]);
      return d;
    };
    const onCpu = await grad();
    await useBackend('wasm');
    try {
      const onWasm = await grad();
      expect(onCpu.every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(onCpu, Math.abs))).toBeGreaterThan(0);
      expect(compareLevels(onWasm, onCpu).maxDiff).toBeLessThan(1e-5);
    } finally {
      await useBackend('cpu');
    }
  });
  it('matches the float64 reference like on cpu (data pipelines may run on wasm)', async () => {
    await useBackend('wasm');
    try {
      for (const c of floatCases) {
        const x = tf.tensor4d(toUnit(c.input), [1, c.input.height, c.input.width, c.input.channels]);
        const y = resizeBicubicTensor(x, target(c), { antialias: c.antialias });
        expect(compareLevels(await y.data(), c.expected.data).maxDiff).toBeLessThan(1e-5);
        tf.dispose([x, y]);
      }
    } finally {
      await useBackend('cpu');
    }
  });
});

describe('upscaleBicubic', () => {
  it('maps [N,H,W,3] to [N,H*s,W*s,3] in [0,1] and equals the unclipped resize inside [0,1]', async () => {
    const x = tf.randomUniform([1, 6, 5, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = upscaleBicubic(x, 3);
    expect(y.shape).toEqual([1, 18, 15, 3]);
    const raw = resizeBicubicTensor(x, 3);
    const [a, b] = [await y.data(), await raw.data()];
    let overshoot = 0;
    for (let i = 0; i < a.length; i++) {
      expect(a[i]).toBeGreaterThanOrEqual(0);
      expect(a[i]).toBeLessThanOrEqual(1);
      if (b[i] < 0 || b[i] > 1) overshoot++;
      else expect(a[i]).toBe(b[i]);
    }
    expect(overshoot).toBeGreaterThan(0); // random noise does overshoot: clipping is exercised
    tf.dispose([x, y, raw]);
  });
  it('a constant image stays constant', async () => {
    const x = tf.fill([1, 4, 4, 3], 0.3) as tf.Tensor4D;
    const y = upscaleBicubic(x, 4);
    for (const v of await y.data()) expect(v).toBeCloseTo(0.3, 6);
    tf.dispose([x, y]);
  });
});

describe('modCrop', () => {
  const img: RawImage = { data: Uint8Array.from({ length: 7 * 5 * 3 }, (_, i) => i), width: 7, height: 5, channels: 3, bits: 8 };
  it('crops a RawImage to multiples of the scale keeping the top-left corner', () => {
    const out = modCrop(img, 2);
    expect([out.width, out.height]).toEqual([6, 4]);
    expect(Array.from(out.data.subarray(18, 21))).toEqual([21, 22, 23]); // row 1, col 0
  });
  it('crops tensors of rank 3 and 4', () => {
    const t = tf.zeros([2, 10, 11, 3]) as tf.Tensor4D;
    const a = modCrop(t, 4);
    const b = modCrop(tf.zeros([10, 11, 3]) as tf.Tensor3D, 3);
    expect(a.shape).toEqual([2, 8, 8, 3]);
    expect(b.shape).toEqual([9, 9, 3]);
    tf.disposeVariables();
    tf.dispose([t, a, b]);
  });
  it('rejects bad scales and too-small images with typed errors', () => {
    expect(() => modCrop(img, 0)).toThrow(ConfigError);
    expect(() => modCrop(img, 8)).toThrow(ShapeError);
  });
});

describe('errors', () => {
  const img: RawImage = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3, bits: 8 };
  it('rejects non-positive scales and bad sizes', () => {
    expect(() => resizeBicubic(img, 0)).toThrow(ConfigError);
    expect(() => resizeBicubic(img, -2)).toThrow(/positive number/);
    expect(() => resizeBicubic(img, [0, 3])).toThrow(ConfigError);
  });
  it('rejects inconsistent images', () => {
    expect(() => resizeBicubic({ ...img, width: 5 }, 2)).toThrow(ShapeError);
    expect(() => resizeBicubic(tf.zeros([4, 4]) as unknown as tf.Tensor3D, 2)).toThrow(ShapeError);
  });
});
