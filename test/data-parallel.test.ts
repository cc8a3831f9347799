import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { AbortError, ConfigError } from '../src/errors';
import { buildStudent } from '../src/models/student';
import { buildTeacher } from '../src/models/teacher';
import { syntheticDataset } from '../src/data/datasets';
import { distill } from '../src/train/distill';
import { train } from '../src/train/train';

let dir: string;
const BACKEND = (process.env.SHARPEN_KD_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';
// The shipped recipe's pieces: re-parameterized 16-wide compact net, luma detail, L1 on Y, clip, EMA.
const student = (seed: number) => buildStudent({ arch: 'compact', scale: 4, width: 16, depth: 1, reparam: true, detail: 'luma', residualInterpolation: 'bilinear', seed });
const data = (seed: number, batchSize = 4) => syntheticDataset({ scale: 4, patchSize: 8, batchSize, seed, images: 4, imageSize: 48 });
const opts = { schedule: { steps: 6, lr: 2e-3, warmup: 2, clip: 0.05, ema: 0.9 }, loss: { pixelSpace: 'y' as const }, checkpoint: { logEvery: 1 }, exportModels: false };
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

/** Largest difference between two runs' losses, relative to the loss. */
const lossGap = (a: { loss: number }[], b: { loss: number }[]) => Math.max(...a.map((h, i) => Math.abs(h.loss - b[i].loss) / h.loss));

beforeAll(async () => {
  await useBackend(BACKEND);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-data-parallel-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('data-parallel training (gradientWorkers)', () => {
  it('follows the one-thread run within float rounding and keeps the tensor count flat', async () => {
    const one = await train({ student: student(5), data: data(2), ...opts });
    const before = tf.memory().numTensors;
    const m = student(5);
    const two = await train({ student: m, data: data(2), ...opts, gradientWorkers: 1 });
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(two.history.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lossGap(one.history, two.history)).toBeLessThan(1e-4);
    // Different rows summed in another order: not the same bits, or the workers did nothing.
    expect(two.history.map((h) => h.loss)).not.toEqual(one.history.map((h) => h.loss));
  });

  it('splits an uneven batch over two workers (3 + 1 + 1 rows) like the one-thread step', async () => {
    const [a, b] = [student(8), student(8)];
    const one = await train({ student: a, data: data(4, 5), ...opts });
    const three = await train({ student: b, data: data(4, 5), ...opts, gradientWorkers: 2 });
    expect(lossGap(one.history, three.history)).toBeLessThan(1e-4);
    const [wa, wb] = [weightsOf(a), weightsOf(b)];
    const maxDiff = Math.max(...wa.flatMap((w, i) => w.map((x, j) => Math.abs(x - wb[i][j]))));
    expect(maxDiff).toBeLessThan(1e-4);
    a.dispose();
    b.dispose();
  });

  it('resumes bit for bit with the same number of workers', async () => {
    const full = await train({ student: student(6), data: data(3), ...opts, gradientWorkers: 1 });
    const out = path.join(dir, 'resume');
    const first = await train({ student: student(6), data: data(3), ...opts, gradientWorkers: 1, out, checkpoint: { every: 3, logEvery: 1 }, onProgress: (p) => {
      if (p.done === 3) throw new AbortError('stop');
    } }).catch((e) => e);
    expect(first).toBeInstanceOf(AbortError);
    const resumed = await train({ student: student(60), data: data(3), ...opts, gradientWorkers: 1, out, resume: true });
    expect(resumed.history.map((h) => h.step)).toEqual([4, 5, 6]);
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(3).map((h) => h.loss));
  });

  it('distills with output distillation through the workers (the teacher targets are split with the batch)', async () => {
    const teacher = buildTeacher({ scale: 4, depths: [1, 1], widthMultiplier: 1 / 16, seed: 2 });
    const d = { teacher, schedule: { steps: 4, lr: 2e-3, warmup: 1 }, loss: { output: 1 }, checkpoint: { logEvery: 1 }, exportModels: false };
    const one = await distill({ ...d, student: student(9), data: data(5) });
    const two = await distill({ ...d, student: student(9), data: data(5), gradientWorkers: 1 });
    expect(lossGap(one.history, two.history)).toBeLessThan(1e-4);
    teacher.dispose();
  });

  it('rejects a bad worker count and feature distillation with a ConfigError', async () => {
    for (const n of [-1, 1.5]) {
      await expect(train({ student: student(1), data: data(1), ...opts, gradientWorkers: n })).rejects.toThrow(/gradientWorkers must be an integer >= 0/);
    }
    const teacher = buildTeacher({ scale: 4, depths: [1, 1], widthMultiplier: 1 / 16, seed: 2 });
    const r = distill({ teacher, student: student(1), data: data(1), schedule: { steps: 2 }, loss: { feature: 1 }, gradientWorkers: 1 });
    await expect(r).rejects.toBeInstanceOf(ConfigError);
    await expect(r).rejects.toThrow(/gradientWorkers does not support feature distillation/);
    teacher.dispose();
  });
});
