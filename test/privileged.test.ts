import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { syntheticDataset } from '../src/data/datasets';
import { openDatasetInWorker } from '../src/data/worker-dataset';
import { ConfigError } from '../src/errors';
import { buildStudent } from '../src/models/student';
import { train } from '../src/train/train';

beforeAll(async () => {
  await useBackend('cpu');
});

function mse(a: Float32Array, b: Float32Array, from: number, n: number): number {
  let s = 0;
  for (let i = from; i < from + n; i++) s += (a[i] - b[i]) ** 2;
  return s / n;
}

describe("privileged targets: the oracle's restoration of each ×1 patch", () => {
  it('carries, per patch, the Wiener deconvolution with its own kernel, closer to HR than the input is', async () => {
    const opts = { scale: 1 as const, patchSize: 48, batchSize: 6, seed: 2, augment: false, privileged: 'wiener-oracle' as const, degradation: { noise: false as const, jpeg: false as const } };
    const data = syntheticDataset(opts);
    expect(data.teacher).toBe('wiener-oracle');
    expect(data.description).toMatch(/privileged=wiener-oracle/);
    const a = await data.nextArrays();
    const n = 48 * 48 * 3;
    expect(a.teacher?.length).toBe(6 * n);
    let better = 0;
    for (let i = 0; i < 6; i++) {
      if (mse(a.teacher!, a.hr, i * n, n) < mse(a.lr, a.hr, i * n, n)) better++;
    }
    expect(better).toBeGreaterThanOrEqual(5);
    // A target is an 8-bit restoration of its own patch, not of another one.
    expect(a.teacher!.every((v) => Number.isInteger(Math.round(v * 255 * 1e3) / 1e3))).toBe(true);
    expect(mse(a.teacher!, a.lr, 0, n)).toBeLessThan(mse(a.teacher!, a.lr.subarray(n), 0, n));
    // In a worker thread the stream is the same, targets included.
    const there = await openDatasetInWorker([], opts);
    const b = await there.nextArrays();
    there.dispose();
    expect(there.teacher).toBe('wiener-oracle');
    expect(b.teacher!.every((v, i) => v === a.teacher![i])).toBe(true);
    data.dispose();
  });

  it('leaves a patch that drew no blur as it is', async () => {
    const data = syntheticDataset({ scale: 1, patchSize: 48, batchSize: 8, seed: 4, augment: false, privileged: 'wiener-oracle', degradation: { blur: { prob: 0.5, range: [1, 2] }, motionBlur: false, noise: false, jpeg: false } });
    const a = await data.nextArrays();
    const n = 48 * 48 * 3;
    const kept = Array.from({ length: 8 }, (_, i) => a.teacher!.subarray(i * n, (i + 1) * n).every((v, k) => v === a.lr[i * n + k]));
    // Unblurred patches (about half) keep their input as the target; blurred ones are deconvolved.
    expect(kept.filter(Boolean).length).toBeGreaterThan(0);
    expect(kept.filter((k) => !k).length).toBeGreaterThan(0);
    data.dispose();
  });

  it('is refused where there is no kernel to give, and lets train() weigh an output term', async () => {
    expect(() => syntheticDataset({ scale: 2, patchSize: 16, privileged: 'wiener-oracle' })).toThrow(ConfigError);
    expect(() => syntheticDataset({ scale: 1, patchSize: 16, privileged: 'wiener-oracle', degradation: { blur: false, motionBlur: false } })).toThrow(ConfigError);
    const student = buildStudent({ scale: 1, arch: 'compact', width: 4, depth: 1, unshuffle: 2, seed: 1 });
    const plain = syntheticDataset({ scale: 1, patchSize: 16, batchSize: 2, seed: 1 });
    await expect(train({ student, data: plain, schedule: { steps: 1 }, loss: { output: 1 } })).rejects.toBeInstanceOf(ConfigError);
    const data = syntheticDataset({ scale: 1, patchSize: 16, batchSize: 2, seed: 1, privileged: 'wiener-oracle' });
    const before = tf.memory().numTensors;
    const r = await train({ student, data, schedule: { steps: 2 }, loss: { pixel: 1, output: 0.5 } });
    expect(r.step).toBe(2);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    student.dispose();
  });
});
