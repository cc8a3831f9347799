import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { AbortError, ConfigError, NanLossError } from '../src/errors';
import { writeImage } from '../src/io/node-image';
import { loadModel } from '../src/io/model-io';
import { buildStudent } from '../src/models/student';
import { syntheticDataset } from '../src/data/datasets';
import { proceduralImage } from '../src/data/procedural';
import type { PatchBatch } from '../src/data/types';
import { train } from '../src/train/train';
import { loadCheckpoint } from '../src/train/checkpoint';

let dir: string;
const BACKEND = (process.env.SHARPEN_KD_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';
const student = (seed = 1) => buildStudent({ arch: 'espcn', scale: 2, width: 8, seed });
const data = (seed = 1) => syntheticDataset({ scale: 2, patchSize: 12, batchSize: 4, seed, images: 6, imageSize: 48 });

beforeAll(async () => {
  await useBackend(BACKEND);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-train-'));
  await fs.mkdir(path.join(dir, 'val'));
  for (let i = 0; i < 2; i++) {
    const img = proceduralImage(100 + i, 48, 40);
    await writeImage(path.join(dir, 'val', `v${i}.png`), { data: img.data as Uint8Array, width: 48, height: 40, channels: 3, bits: 8 });
  }
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('train', () => {
  it('lowers the loss, keeps the tensor count flat, validates, and writes checkpoints, models and a JSONL log', async () => {
    const model = student();
    const ds = data();
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const out = path.join(dir, 'run1');
    const r = await train({
      student: model,
      data: ds,
      steps: 40,
      lr: 3e-3,
      warmup: 2,
      clip: 1,
      ema: 0.9,
      val: path.join(dir, 'val'),
      valEvery: 20,
      out,
      logEvery: 5,
      onProgress: (p) => counts.push(tf.memory().numTensors),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(counts.slice(1)).size).toBe(1);
    const mean = (a: { loss: number }[]) => a.reduce((s, x) => s + x.loss, 0) / a.length;
    expect(mean(r.history.slice(-8))).toBeLessThan(0.8 * mean(r.history.slice(0, 8)));
    expect(r.val?.step).toBe(40);
    expect(r.val!.psnr).toBeGreaterThan(10);
    expect(r.best?.psnr).toBeGreaterThan(10);
    const log = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((l) => l.valPsnr !== undefined).map((l) => l.step)).toEqual([20, 40]);
    const row = log.find((l) => l.step === 5);
    expect(row).toMatchObject({ step: 5 });
    expect(row.pixel).toBeGreaterThan(0);
    expect(row.lr).toBeGreaterThan(0);
    const ckpt = await loadCheckpoint(path.join(out, 'last.ckpt'));
    expect(ckpt.step).toBe(40);
    expect(ckpt.meta.data).toEqual({ seed: 1, batch: 40 });
    // The exported model reproduces the EMA weights' predictions.
    const exported = await loadModel(path.join(out, 'model-last'));
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 3);
    expect(exported.predict(x)).toBeDefined();
    tf.dispose([x]);
    exported.dispose();
    model.dispose();
    ds.dispose();
  });

  it('resumes exactly: a stopped and resumed run gives the same next-step losses as an uninterrupted one', async () => {
    const opts = { lr: 2e-3, warmup: 2, clip: 0.5, ema: 0.9, schedule: 'cosine' as const, logEvery: 1, exportModels: false };
    const full = await train({ student: student(7), data: data(3), ...opts, steps: 10 });
    const out = path.join(dir, 'resume');
    const first = await train({ student: student(7), data: data(3), ...opts, steps: 10, out, checkpointEvery: 4, signal: undefined, onProgress: (p) => {
      if (p.done === 6) throw new AbortError('stop');
    } }).catch((e) => e);
    expect(first).toBeInstanceOf(AbortError);
    // The abort saved last.ckpt at step 6; resume into a *fresh* model and dataset.
    const resumed = await train({ student: student(99), data: data(3), ...opts, steps: 10, out, resume: true });
    expect(resumed.startStep).toBe(6);
    expect(resumed.history.map((h) => h.step)).toEqual([7, 8, 9, 10]);
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(6).map((h) => h.loss));
  });

  it('compact checkpoints: smaller, weights exact, and a resumed run stays within bfloat16 rounding of an uninterrupted one', async () => {
    const opts = { lr: 2e-3, warmup: 2, clip: 0.5, ema: 0.9, schedule: 'cosine' as const, logEvery: 1, exportModels: false };
    const full = await train({ student: student(7), data: data(3), ...opts, steps: 10 });
    const outs = { full: path.join(dir, 'prec-full'), compact: path.join(dir, 'prec-compact') };
    for (const [p, out] of Object.entries(outs)) {
      const stop = (pr: { done: number }) => {
        if (pr.done === 6) throw new AbortError('stop');
      };
      const r = await train({ student: student(7), data: data(3), ...opts, steps: 10, out, checkpointPrecision: p as 'full' | 'compact', onProgress: stop }).catch((e) => e);
      expect(r).toBeInstanceOf(AbortError);
    }
    const [a, b] = await Promise.all([fs.stat(path.join(outs.full, 'last.ckpt')), fs.stat(path.join(outs.compact, 'last.ckpt'))]);
    expect(b.size).toBeLessThan(a.size * 0.75);
    const [ca, cb] = await Promise.all([loadCheckpoint(path.join(outs.full, 'last.ckpt')), loadCheckpoint(path.join(outs.compact, 'last.ckpt'))]);
    for (let i = 0; i < ca.tensors.length; i++) {
      const [x, y] = [ca.tensors[i], cb.tensors[i]];
      expect(y.name).toBe(x.name);
      if (x.name.startsWith('model/')) expect(Array.from(y.data)).toEqual(Array.from(x.data));
      else {
        expect(y.storage).toBe('bfloat16');
        for (let k = 0; k < x.data.length; k++) expect(Math.abs(y.data[k] - x.data[k])).toBeLessThanOrEqual(Math.abs(x.data[k]) * 2 ** -8);
      }
    }
    const resumed = await train({ student: student(99), data: data(3), ...opts, steps: 10, out: outs.compact, resume: true, checkpointPrecision: 'compact' });
    expect(resumed.startStep).toBe(6);
    resumed.history.forEach((h, i) => expect(Math.abs(h.loss - full.history[6 + i].loss)).toBeLessThan(1e-3 * full.history[6 + i].loss + 1e-6));
    await expect(train({ student: student(7), data: data(3), ...opts, steps: 2, checkpointPrecision: 'half' as never })).rejects.toThrow(/checkpointPrecision/);
  });

  it('stops with NanLossError on a non-finite loss and keeps the last good checkpoint', async () => {
    const good = data(5);
    let n = 0;
    const poisoned: AsyncIterable<PatchBatch> = {
      async *[Symbol.asyncIterator]() {
        for await (const b of good) {
          if (++n === 5) {
            const bad = tf.fill(b.hr.shape, NaN) as tf.Tensor4D;
            b.hr.dispose();
            yield { lr: b.lr, hr: bad };
          } else yield b;
        }
      },
    };
    const out = path.join(dir, 'nan');
    const model = student();
    const before = tf.memory().numTensors;
    const err = await train({ student: model, data: poisoned, steps: 10, out, checkpointEvery: 2, exportModels: false }).catch((e) => e);
    expect(err).toBeInstanceOf(NanLossError);
    expect(err.step).toBe(5);
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).step).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('honours an AbortSignal and validates options', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(train({ student: student(), data: data(), steps: 5, signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    await expect(train({ student: student(), data: data(), steps: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(train({ student: student(), data: data(), steps: 5, ema: 2 })).rejects.toThrow(/ema/);
    await expect(train({ student: student(), data: data(), steps: 5, loss: { output: 1 } })).rejects.toThrow(/distill/);
    const x4 = buildStudent({ arch: 'espcn', scale: 4, width: 4 });
    await expect(train({ student: x4, data: data(), steps: 5 })).rejects.toThrow(/scale 2 but the model is x4/);
    await expect(train({ data: data(), steps: 5 } as never)).rejects.toThrow(/train needs a student/);
    await expect(train({ student: student(), steps: 5 } as never)).rejects.toThrow(/train needs data/);
  });

  it('still takes the deprecated train(model, data, opts) form: the same run as train({ student, data, ...opts })', async () => {
    const opts = { steps: 3, lr: 2e-3, warmup: 1, logEvery: 1, exportModels: false };
    const a = await train({ student: student(5), data: data(2), ...opts });
    const b = await train(student(5), data(2), opts);
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    expect(b.step).toBe(3);
  });
});
