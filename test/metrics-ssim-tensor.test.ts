import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs union package does): register them for tf.grad.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, useBackend } from '../src/index';
import { ssim, ssimTensor } from '../src/entries/metrics';
import { metricFixtures, toUnit, type FixtureImage } from './fixtures/metrics/load';

const { images, pairs } = metricFixtures();
const asTensor4 = (f: FixtureImage): tf.Tensor4D => tf.tensor4d(toUnit(f), [1, f.height, f.width, f.channels]);

afterAll(async () => {
  await useBackend('cpu');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`ssimTensor on ${backend}`, () => {
    it('matches the float64 reference (numpy + scikit-image) to 1e-4', async () => {
      await useBackend(backend);
      for (const name of ['float rgb y=True crop=3', 'float rgb y=False crop=0', 'u8 gray y=True crop=2']) {
        const p = pairs.find((q) => q.name === name)!;
        const [a, b] = [asTensor4(images[p.a]), asTensor4(images[p.b])];
        const s = ssimTensor(a, b, { yChannel: p.yChannel, crop: p.crop });
        expect(s.shape).toEqual([]);
        expect(Math.abs((await s.data())[0] - p.ssim)).toBeLessThan(1e-4);
        tf.dispose([a, b, s]);
      }
    });

    it('gradients: finite, match a finite-difference directional derivative, and 1 - ssim(x, x) = 0', async () => {
      await useBackend(backend);
      const x = tf.randomUniform([2, 14, 13, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = tf.randomUniform([2, 14, 13, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const d = tf.randomNormal([2, 14, 13, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const f = (t: tf.Tensor) => ssimTensor(t, y, { yChannel: true });
      const g = tf.grad(f)(x);
      const gd = await g.data();
      expect(gd.every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(gd, Math.abs))).toBeGreaterThan(0);
      const eps = 1e-2;
      const [fp, fm, dot] = tf.tidy(() => [
        f(tf.add(x, tf.mul(d, eps))).dataSync()[0],
        f(tf.sub(x, tf.mul(d, eps))).dataSync()[0],
        tf.sum(tf.mul(g, d)).dataSync()[0],
      ]);
      const numeric = (fp - fm) / (2 * eps);
      expect(Math.abs(numeric - dot)).toBeLessThan(1e-3 + 1e-2 * Math.abs(dot));
      const loss = tf.tidy(() => tf.sub(1, ssimTensor(x, x)));
      expect(Math.abs((await loss.data())[0])).toBeLessThan(1e-5);
      tf.dispose([x, y, d, g, loss]);
    });

    it('keeps tensor count flat over repeated loss + gradient steps', async () => {
      await useBackend(backend);
      const x = tf.randomUniform([1, 16, 16, 3]) as tf.Tensor4D;
      const y = tf.randomUniform([1, 16, 16, 3]) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sub(1, ssimTensor(t, y)) as tf.Scalar)(x);
        tf.dispose([value, grad]);
        tf.grad((t: tf.Tensor) => ssimTensor(t, y))(x).dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
    });
  });
}

describe('ssimTensor agrees with ssim() and validates input', () => {
  it('matches the float64 ssim() on random images (mean over channels and batch)', async () => {
    await useBackend('cpu');
    const x = tf.randomUniform([2, 20, 17, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const y = tf.clipByValue(tf.add(x, tf.randomNormal([2, 20, 17, 3], 0, 0.1, 'float32', 5)), 0, 1) as tf.Tensor4D;
    const s = ssimTensor(x, y, { crop: 2 });
    expect((await s.data())[0]).toBeCloseTo(await ssim(x, y, { crop: 2 }), 5);
    tf.dispose([x, y, s]);
  });
  it('throws ShapeError for mismatched or too small inputs', () => {
    const a = tf.zeros([10, 10, 3]);
    expect(() => ssimTensor(a, tf.zeros([10, 11, 3]))).toThrow(ShapeError);
    expect(() => ssimTensor(a, a)).toThrow(/at least 11x11/);
    tf.dispose(a);
  });
});
