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
      schedule: { steps: 40, lr: 3e-3, warmup: 2, clip: 1, ema: 0.9 },
      validation: { folder: path.join(dir, 'val'), every: 20 },
      checkpoint: { logEvery: 5 },
      out,
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

  const schedule = { steps: 10, lr: 2e-3, warmup: 2, clip: 0.5, ema: 0.9, kind: 'cosine' as const };

  it('resumes exactly: a stopped and resumed run gives the same next-step losses as an uninterrupted one', async () => {
    const opts = { schedule, checkpoint: { logEvery: 1 }, exportModels: false };
    const full = await train({ student: student(7), data: data(3), ...opts });
    const out = path.join(dir, 'resume');
    const first = await train({ student: student(7), data: data(3), ...opts, out, checkpoint: { every: 4, logEvery: 1 }, signal: undefined, onProgress: (p) => {
      if (p.done === 6) throw new AbortError('stop');
    } }).catch((e) => e);
    expect(first).toBeInstanceOf(AbortError);
    // The abort saved last.ckpt at step 6; resume into a *fresh* model and dataset.
    const resumed = await train({ student: student(99), data: data(3), ...opts, out, resume: true });
    expect(resumed.startStep).toBe(6);
    expect(resumed.history.map((h) => h.step)).toEqual([7, 8, 9, 10]);
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(6).map((h) => h.loss));
  });

  it('resumes exactly with the x4 recipe\'s pieces: re-parameterized 16-channel compact, luma detail, L1 on Y, clip, EMA', async () => {
    // The shifted-window filter gradient (16-channel 3x3 layers), the merged-kernel custom op and the one-op rgbToY.
    const rep = (seed: number) => buildStudent({ arch: 'compact', scale: 4, width: 16, depth: 1, reparam: true, detail: 'luma', residualInterpolation: 'bilinear', seed });
    const lumaData = (seed: number) => syntheticDataset({ scale: 4, patchSize: 8, batchSize: 2, seed, images: 4, imageSize: 48 });
    const opts = { schedule: { steps: 6, lr: 2e-3, warmup: 2, clip: 0.05, ema: 0.9 }, loss: { pixelSpace: 'y' as const }, checkpoint: { logEvery: 1 }, exportModels: false };
    const full = await train({ student: rep(5), data: lumaData(2), ...opts });
    const out = path.join(dir, 'resume-recipe');
    const first = await train({ student: rep(5), data: lumaData(2), ...opts, out, checkpoint: { every: 3, logEvery: 1 }, onProgress: (p) => {
      if (p.done === 3) throw new AbortError('stop');
    } }).catch((e) => e);
    expect(first).toBeInstanceOf(AbortError);
    const resumed = await train({ student: rep(77), data: lumaData(2), ...opts, out, resume: true });
    expect(resumed.history.map((h) => h.step)).toEqual([4, 5, 6]);
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(3).map((h) => h.loss));
    expect(new Set(full.history.map((h) => h.loss)).size).toBe(6);
  });

  it('compact checkpoints: smaller, weights exact, and a resumed run stays within bfloat16 rounding of an uninterrupted one', async () => {
    const opts = { schedule, exportModels: false };
    const full = await train({ student: student(7), data: data(3), ...opts });
    const outs = { full: path.join(dir, 'prec-full'), compact: path.join(dir, 'prec-compact') };
    for (const [p, out] of Object.entries(outs)) {
      const stop = (pr: { done: number }) => {
        if (pr.done === 6) throw new AbortError('stop');
      };
      const r = await train({ student: student(7), data: data(3), ...opts, out, checkpoint: { precision: p as 'full' | 'compact' }, onProgress: stop }).catch((e) => e);
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
    const resumed = await train({ student: student(99), data: data(3), ...opts, out: outs.compact, resume: true, checkpoint: { precision: 'compact' } });
    expect(resumed.startStep).toBe(6);
    resumed.history.forEach((h, i) => expect(Math.abs(h.loss - full.history[6 + i].loss)).toBeLessThan(1e-3 * full.history[6 + i].loss + 1e-6));
    await expect(train({ student: student(7), data: data(3), ...opts, checkpoint: { precision: 'half' as never } })).rejects.toThrow(/checkpoint\.precision/);
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
    const err = await train({ student: model, data: poisoned, schedule: { steps: 10 }, out, checkpoint: { every: 2 }, exportModels: false }).catch((e) => e);
    expect(err).toBeInstanceOf(NanLossError);
    expect(err.step).toBe(5);
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).step).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('skips the update of a gradient spike with schedule.skipSpikes, and applies it without', async () => {
    // Step 60's batch has its HR scaled by 50: under a squared error, a gradient far above the running mean of the first 59.
    const spiked = (): AsyncIterable<PatchBatch> => ({
      async *[Symbol.asyncIterator]() {
        let n = 0;
        for await (const b of data(4)) {
          if (++n === 60) {
            const hr = tf.mul(b.hr, 50) as tf.Tensor4D;
            b.hr.dispose();
            yield { lr: b.lr, hr };
          } else yield b;
        }
      },
    });
    const schedule = { lr: 1e-3, kind: 'constant' as const, warmup: 0, clip: 1 };
    const loss = { pixelKind: 'mse' as const };
    const weightsOf = (m: ReturnType<typeof student>) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const out = path.join(dir, 'spikes');
    const guarded = student(3);
    const before = tf.memory().numTensors;
    const r = await train({ student: guarded, data: spiked(), schedule: { ...schedule, steps: 60, skipSpikes: 10 }, loss, out, exportModels: false, checkpoint: { logEvery: 1 } });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.skippedSteps).toEqual([60]);
    const log = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const event = log.find((row) => row.event === 'skipped');
    expect(event).toMatchObject({ step: 60 });
    expect(event.gradNorm).toBeGreaterThan(event.threshold);
    // Skipping step 60 leaves the weights of step 59 exactly (constant learning rate, no EMA).
    const ref = student(3);
    await train({ student: ref, data: spiked(), schedule: { ...schedule, steps: 59 }, loss, exportModels: false });
    expect(weightsOf(guarded)).toEqual(weightsOf(ref));
    // Without the guard the spike is applied (clipped, but it moves the weights).
    const unguarded = student(3);
    const u = await train({ student: unguarded, data: spiked(), schedule: { ...schedule, steps: 60 }, loss, exportModels: false });
    expect(u.skippedSteps).toEqual([]);
    expect(weightsOf(unguarded)).not.toEqual(weightsOf(ref));
    // The running mean is in the checkpoint, so a resumed run guards as the uninterrupted one does.
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).meta).toMatchObject({ gradNorms: { seen: 60 } });
    await expect(train({ student: student(), data: data(), schedule: { steps: 5, skipSpikes: 1 } })).rejects.toThrow(/skipSpikes must be 0 \(off\) or a factor > 1/);
    [guarded, ref, unguarded].forEach((m) => m.dispose());
  });

  it('honours an AbortSignal and validates options', async () => {
    const ac = new AbortController();
    ac.abort();
    const schedule = { steps: 5 };
    await expect(train({ student: student(), data: data(), schedule, signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    await expect(train({ student: student(), data: data(), schedule: { steps: 0 } })).rejects.toBeInstanceOf(ConfigError);
    await expect(train({ student: student(), data: data(), schedule: { steps: 5, ema: 2 } })).rejects.toThrow(/ema/);
    await expect(train({ student: student(), data: data(), schedule, steps: 5 })).rejects.toThrow(/given both ways/);
    await expect(train({ student: student(), data: data(), schedule, loss: { output: 1 } })).rejects.toThrow(/distill/);
    const x4 = buildStudent({ arch: 'espcn', scale: 4, width: 4 });
    await expect(train({ student: x4, data: data(), schedule })).rejects.toThrow(/scale 2 but the model is x4/);
    await expect(train({ data: data(), schedule } as never)).rejects.toThrow(/train needs a student/);
    await expect(train({ student: student(), schedule } as never)).rejects.toThrow(/train needs data/);
  });

  it('resumes a checkpoint written with the flat options, bit for bit the same from a flat and a grouped call', async () => {
    // test/fixtures/checkpoints/flat-options-step3.ckpt: 3 steps of student(7) on data(3), written by the flat-options
    // release with { steps: 3, lr: 3e-3, warmup: 2, clip: 0.5, ema: 0.9, schedule: 'cosine', logEvery: 1, seed: 0,
    // meta: { arch: 'espcn', scale: 2, width: 8 } }.
    const fixture = path.join(__dirname, 'fixtures', 'checkpoints', 'flat-options-step3.ckpt');
    const stored = await loadCheckpoint(fixture);
    expect(stored.step).toBe(3);
    expect(stored.meta).toMatchObject({ kind: 'train', steps: 3, seed: 0, data: { seed: 3, batch: 3 }, user: { arch: 'espcn', scale: 2, width: 8 } });
    const schedule = { steps: 6, lr: 3e-3, warmup: 2, clip: 0.5, ema: 0.9 };
    const runs = [
      { name: 'flat', opts: { steps: 6, lr: 3e-3, warmup: 2, clip: 0.5, ema: 0.9, schedule: 'cosine' as const, logEvery: 1 } },
      { name: 'grouped', opts: { schedule: { ...schedule, kind: 'cosine' as const }, checkpoint: { logEvery: 1 } } },
    ];
    const results = [];
    for (const { name, opts } of runs) {
      const out = path.join(dir, `from-flat-${name}`);
      await fs.mkdir(out, { recursive: true });
      await fs.copyFile(fixture, path.join(out, 'last.ckpt'));
      const r = await train({ student: student(99), data: data(3), ...opts, out, resume: true, meta: { arch: 'espcn', scale: 2, width: 8 }, exportModels: false });
      expect(r.startStep).toBe(3);
      expect(r.history.map((h) => h.step)).toEqual([4, 5, 6]);
      results.push({ r, ckpt: await fs.readFile(path.join(out, 'last.ckpt')) });
    }
    expect(results[1].r.history).toEqual(results[0].r.history);
    expect(Buffer.compare(results[1].ckpt, results[0].ckpt)).toBe(0);
    // The checkpoint restored the run, not the fresh student(99): the same 3 steps made now and continued the same
    // way give the same losses (to float rounding across builds of the kernels).
    const ref = path.join(dir, 'from-flat-reference');
    const common = { schedule: { ...schedule, steps: 3 }, checkpoint: { logEvery: 1 }, out: ref, exportModels: false };
    await train({ student: student(7), data: data(3), ...common });
    const again = await train({ student: student(99), data: data(3), ...common, schedule, resume: true });
    expect(again.history.map((h) => h.step)).toEqual([4, 5, 6]);
    results[1].r.history.forEach((h, i) => expect(h.loss).toBeCloseTo(again.history[i].loss, 5));
    expect((await loadCheckpoint(path.join(dir, 'from-flat-grouped', 'last.ckpt'))).meta).toMatchObject({ kind: 'train', steps: 6, seed: 0, data: { seed: 3, batch: 6 } });
  });

  it('still takes the deprecated train(model, data, opts) form: the same run as train({ student, data, ...opts })', async () => {
    const opts = { schedule: { steps: 3, lr: 2e-3, warmup: 1 }, checkpoint: { logEvery: 1 }, exportModels: false };
    const a = await train({ student: student(5), data: data(2), ...opts });
    const b = await train(student(5), data(2), opts);
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    expect(b.step).toBe(3);
  });
});
