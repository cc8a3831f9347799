import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../src/errors';
import { charbonnierLoss, l1Loss, mseLoss, pixelLoss, psnrLoss } from '../src/losses/pixel';
import { ssimLoss } from '../src/losses/combined';
import { outputKdLoss } from '../src/losses/combined';
import { createFeatureAdapters, featureKdLoss } from '../src/losses/feature-kd';
import { combinedLoss, resolveLossWeights, teacherCloser } from '../src/losses/combined';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const val = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('pixel losses', () => {
  it('match hand-computed values', () => {
    const a = tf.tensor1d([0, 0.5, 1, 0.25]);
    const b = tf.tensor1d([0.5, 0.5, 0, 0.75]);
    expect(val(l1Loss(a, b))).toBeCloseTo((0.5 + 0 + 1 + 0.5) / 4, 6);
    expect(val(mseLoss(a, b))).toBeCloseTo((0.25 + 0 + 1 + 0.25) / 4, 6);
    const eps = 1e-3;
    const want = [0.5, 0, 1, 0.5].reduce((s, d) => s + Math.sqrt(d * d + eps * eps), 0) / 4;
    expect(val(charbonnierLoss(a, b, eps))).toBeCloseTo(want, 6);
    expect(val(pixelLoss('mse', a, b))).toBeCloseTo(0.375, 6);
    expect(() => pixelLoss('huber' as never, a, b)).toThrow(ConfigError);
    expect(() => l1Loss(a, tf.zeros([3]))).toThrow(ShapeError);
    tf.dispose([a, b]);
  });
});

describe('psnr loss', () => {
  it('is minus the mean PSNR over the samples (floored at 50 dB), and weighs every sample by its dB', () => {
    // Sample 0 is off by 0.1 everywhere (20 dB), sample 1 by 0.01 (40 dB), sample 2 not at all (the 50 dB floor).
    const b = tf.fill([3, 2, 2, 1], 0.5);
    const a = tf.add(b, tf.tensor4d([0.1, 0.01, 0].flatMap((d) => [d, d, d, d]), [3, 2, 2, 1]));
    const db = (mse: number) => 10 * Math.log10(mse + 1e-5);
    expect(val(psnrLoss(a, b))).toBeCloseTo((db(0.01) + db(1e-4) + db(0)) / 3, 4);
    expect(val(pixelLoss('psnr', a, b))).toBeCloseTo(val(psnrLoss(a, b)), 6);
    // L1 spends its gradient on the large error; the psnr loss on the small one (halving either error is worth 6 dB
    // of that sample's PSNR, and moving a sample's error by the same amount counts more where the error is small).
    const grads = (f: (x: tf.Tensor) => tf.Scalar) => {
      const g = tf.grad(f)(a);
      const per = tf.sum(tf.abs(g), [1, 2, 3]).dataSync();
      g.dispose();
      return per;
    };
    const l1 = grads((x) => l1Loss(x, b));
    const ps = grads((x) => psnrLoss(x, b));
    expect(l1[0]).toBeCloseTo(l1[1], 6);
    expect(ps[1]).toBeGreaterThan(5 * ps[0]);
    expect(() => psnrLoss(tf.zeros([4]), tf.zeros([4]))).toThrow(ShapeError);
    tf.dispose([a, b]);
  });
});

describe('SSIM and output KD losses', () => {
  it('ssimLoss is 0 for identical images, positive otherwise, and has a gradient', () => {
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    expect(val(ssimLoss(x, x))).toBeCloseTo(0, 5);
    expect(val(ssimLoss(x, y))).toBeGreaterThan(0.5);
    const g = tf.grad((z: tf.Tensor) => ssimLoss(z, y))(x);
    expect(val(tf.sum(tf.abs(g)) as tf.Scalar)).toBeGreaterThan(0);
    tf.dispose([x, y, g]);
  });

  it('outputKdLoss is the pixel loss against the teacher prediction', () => {
    const s = tf.randomUniform([1, 4, 4, 3], 0, 1, 'float32', 3);
    const t = tf.randomUniform([1, 4, 4, 3], 0, 1, 'float32', 4);
    expect(val(outputKdLoss(s, t))).toBeCloseTo(val(l1Loss(s, t)), 7);
    expect(val(outputKdLoss(s, t, 'mse'))).toBeCloseTo(val(mseLoss(s, t)), 7);
    tf.dispose([s, t]);
  });
});

describe('feature KD', () => {
  it('pairs taps evenly, adds 1x1 adapters only where channels differ', () => {
    const a = createFeatureAdapters([8, 8, 8], [8, 16], { seed: 1 });
    expect(a.pairs).toEqual([0, 1, 1]);
    expect(a.kernels.map((k) => (k ? k.shape : null))).toEqual([null, [8, 16], [8, 16]]);
    expect(a.variables).toHaveLength(2);
    a.dispose();
    const b = createFeatureAdapters([4], [4, 6, 8]);
    expect(b.pairs).toEqual([2]);
    b.dispose();
  });

  it('is 0 when features agree, resizes teacher features to the student size, and trains the adapters', () => {
    const before = tf.memory().numTensors;
    const s = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const same = createFeatureAdapters([4], [4]);
    expect(val(featureKdLoss([s], [s], same))).toBeCloseTo(0, 6);
    // Teacher at half resolution with 6 channels = fixed linear map of the (pooled) student features.
    const M = tf.randomNormal([4, 6], 0, 1, 'float32', 6) as tf.Tensor2D;
    const t = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(tf.avgPool(s, 2, 2, 'valid'), [-1, 4]), M), [2, 4, 4, 6])) as tf.Tensor4D;
    const ad = createFeatureAdapters([4], [6], { seed: 2 });
    const first = val(featureKdLoss([s], [t], ad));
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 150; i++) opt.minimize(() => featureKdLoss([s], [t], ad), false, ad.variables);
    const last = val(featureKdLoss([s], [t], ad));
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.35 * first);
    opt.dispose();
    tf.dispose([s, M, t]);
    same.dispose();
    ad.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('combinedLoss', () => {
  it('is the weighted sum of the terms it computes', () => {
    const sr = tf.randomUniform([1, 12, 12, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const hr = tf.randomUniform([1, 12, 12, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    const te = tf.randomUniform([1, 12, 12, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const w = resolveLossWeights({ pixel: 0.5, output: 2, ssim: 0.25 });
    const { total, parts } = combinedLoss({ student: sr, hr, teacher: te }, w);
    expect(Object.keys(parts).sort()).toEqual(['output', 'pixel', 'ssim']);
    const p = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, val(v)]));
    expect(val(total)).toBeCloseTo(0.5 * p.pixel + 2 * p.output + 0.25 * p.ssim, 5);
    expect(p.pixel).toBeCloseTo(val(l1Loss(sr, hr)), 6);
    expect(() => combinedLoss({ student: sr, hr }, w)).toThrow(/needs teacher predictions/);
    tf.dispose([sr, hr, te]);
  });

  it("pixelSpace 'y' measures the pixel loss on BT.601 luma: blind to a pure chroma error", () => {
    const hr = tf.randomUniform([1, 8, 8, 3], 0.2, 0.8, 'float32', 1) as tf.Tensor4D;
    // (+0.1 R, -0.1 G, +0.1·(0.587 - 0.299)/0.114 B) keeps Y: a chroma-only change.
    const chroma = tf.tidy(() => tf.add(hr, tf.tensor1d([0.1, -0.1, (0.1 * (128.553 - 65.481)) / 24.966]))) as tf.Tensor4D;
    const luma = tf.tidy(() => tf.add(hr, 0.1)) as tf.Tensor4D;
    const pixel = (sr: tf.Tensor4D, space: 'rgb' | 'y') => {
      const { total, parts } = combinedLoss({ student: sr, hr }, resolveLossWeights({ pixelSpace: space }));
      const v = val(total);
      tf.dispose([total, ...Object.values(parts)]);
      return v;
    };
    expect(pixel(chroma, 'y')).toBeLessThan(1e-6);
    expect(pixel(chroma, 'rgb')).toBeGreaterThan(0.05);
    expect(pixel(luma, 'y')).toBeCloseTo((0.1 * 219) / 255, 5);
    tf.dispose([hr, chroma, luma]);
  });

  it("pixelSpace 'y' measures output distillation on luma too: a teacher's chroma the student cannot follow costs nothing", () => {
    const sr = tf.randomUniform([1, 8, 8, 3], 0.2, 0.8, 'float32', 2) as tf.Tensor4D;
    // The teacher differs from the student in chroma only.
    const teacher = tf.tidy(() => tf.add(sr, tf.tensor1d([0.1, -0.1, (0.1 * (128.553 - 65.481)) / 24.966]))) as tf.Tensor4D;
    const kd = (space: 'rgb' | 'y') => {
      const { total, parts } = combinedLoss({ student: sr, hr: sr, teacher }, resolveLossWeights({ pixel: 0, output: 1, pixelSpace: space }));
      const v = val(parts.output);
      tf.dispose([total, ...Object.values(parts)]);
      return v;
    };
    expect(kd('y')).toBeLessThan(1e-6);
    expect(kd('rgb')).toBeGreaterThan(0.05);
    tf.dispose([sr, teacher]);
  });

  it('outputBounded: output distillation only where the teacher is closer to HR than the student; the mask is a constant', () => {
    const hr = tf.tensor4d([0, 0, 0, 0], [1, 2, 2, 1]);
    const student = tf.tensor4d([0.1, -0.5, 0.3, 0], [1, 2, 2, 1]);
    const teacher = tf.tensor4d([0.2, 0.1, -0.1, 0.4], [1, 2, 2, 1]);
    // |t - hr| < |s - hr|: no (0.2 vs 0.1), yes (0.1 vs 0.5), yes (0.1 vs 0.3), no (0.4 vs 0: a tie-free student at HR).
    const m = teacherCloser(student, teacher, hr);
    expect(Array.from(m.dataSync())).toEqual([0, 1, 1, 0]);
    const kd = (bounded: boolean) => {
      const w = resolveLossWeights({ pixel: 0, output: 1, outputBounded: bounded });
      const { value, grads } = tf.valueAndGrads((s: tf.Tensor) => combinedLoss({ student: s as tf.Tensor4D, hr, teacher }, w).total)([student]);
      const r = { value: value.dataSync()[0], grad: Array.from(grads[0].dataSync()) };
      tf.dispose([value, ...grads]);
      return r;
    };
    const b = kd(true);
    expect(b.value).toBeCloseTo((0.6 + 0.4) / 4, 6); // |s - t| on the two masked values, mean over all four
    expect(b.grad).toEqual([0, -0.25, 0.25, 0].map((v) => expect.closeTo(v, 6)));
    expect(kd(false).value).toBeCloseTo((0.1 + 0.6 + 0.4 + 0.4) / 4, 6);
    expect(() => resolveLossWeights({ outputBounded: 'yes' as unknown as boolean })).toThrow(ConfigError);
    tf.dispose([hr, student, teacher, m]);
  });

  it('validates weights', () => {
    expect(() => resolveLossWeights({ pixel: -1 })).toThrow(ConfigError);
    expect(() => resolveLossWeights({ pixel: 0 })).toThrow(/every loss weight is 0/);
    expect(() => resolveLossWeights({ pixelKind: 'l3' as never })).toThrow(ConfigError);
    expect(() => resolveLossWeights({ pixelSpace: 'lab' as never })).toThrow(ConfigError);
    expect(resolveLossWeights({}, { output: 1 })).toMatchObject({ pixel: 1, output: 1, feature: 0, ssim: 0, pixelKind: 'l1', pixelSpace: 'rgb' });
  });
});
