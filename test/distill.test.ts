import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { AbortError, ConfigError } from '../src/errors';
import { buildStudent } from '../src/models/student';
import { buildTeacher } from '../src/models/teacher';
import { featureTaps } from '../src/models/taps';
import { imageFolderDataset, syntheticDataset } from '../src/data/datasets';
import { loadTeacherCache } from '../src/train/teacher-cache';
import sharp from 'sharp';
import { distill } from '../src/train/distill';
import { prepareTeacher } from '../src/train/teacher';
import { loadCheckpoint } from '../src/train/checkpoint';
import type { Progress } from '../src/core/task';

let dir: string;
const BACKEND = (process.env.SHARPEN_KD_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';
let teacher: ReturnType<typeof buildTeacher>;
const student = (seed = 1) => buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 1, seed });
const data = (seed = 1) => syntheticDataset({ scale: 2, patchSize: 12, batchSize: 4, seed, images: 6, imageSize: 48 });
const mean = (a: { loss: number }[]) => a.reduce((s, x) => s + x.loss, 0) / a.length;

beforeAll(async () => {
  await useBackend(BACKEND);
  teacher = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, seed: 2 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-distill-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('distill', () => {
  it('distills a tiny student from a tiny teacher: the loss decreases and the tensor count does not grow', async () => {
    const s = student();
    const ds = data();
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const r = await distill({ teacher, student: s, data: ds, schedule: { steps: 36, lr: 4e-3, warmup: 2 }, onProgress: () => counts.push(tf.memory().numTensors) });
    expect(mean(r.history.slice(-8))).toBeLessThan(0.75 * mean(r.history.slice(0, 8)));
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
    ds.dispose();
  });

  it('caches teacher outputs once, reuses them, and resumes exactly from a cached run', async () => {
    const cacheDir = path.join(dir, 'cache');
    const opts = { teacher, schedule: { steps: 8, lr: 3e-3, warmup: 1, ema: 0.9 }, cacheDir, cacheSize: 24, exportModels: false };
    const stages: Progress[] = [];
    const full = await distill({ ...opts, student: student(3), data: data(4), onProgress: (p) => stages.push(p) });
    const cacheReports = stages.filter((p) => p.stage === 'teacher-cache');
    expect(cacheReports.at(-1)).toMatchObject({ done: 24, total: 24 });
    expect(['onnx', 'tfjs']).toContain(cacheReports[0].info?.runtime);
    const index = JSON.parse(await fs.readFile(path.join(cacheDir, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ count: 24, lrSize: 12, hrSize: 24, scale: 2 });

    const out = path.join(dir, 'resume');
    const stopped = await distill({ ...opts, student: student(3), data: data(4), out, onProgress: (p) => {
      if (p.stage === 'teacher-cache') throw new Error('the cache should have been reused');
      if (p.stage === 'train' && p.done === 3) throw new AbortError('stop');
    } }).catch((e) => e);
    expect(stopped).toBeInstanceOf(AbortError);
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).step).toBe(3);
    const resumed = await distill({ ...opts, student: student(50), data: data(4), out, resume: true });
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(3).map((h) => h.loss));
  });

  it('builds the cache from cacheData (larger patches: the teacher sees context) and refuses a stream that does not match', async () => {
    const cacheDir = path.join(dir, 'cache-context');
    const opts = { teacher, schedule: { steps: 2, lr: 3e-3, warmup: 1 }, cacheDir, cacheSize: 8, exportModels: false };
    const bigger = (seed: number, patchSize: number) => syntheticDataset({ scale: 2, patchSize, batchSize: 4, seed, images: 3, imageSize: 48 });
    for (const bad of [bigger(4, 15), bigger(5, 16), bigger(4, 10)]) {
      await expect(distill({ ...opts, student: student(3), data: data(4), cacheData: bad })).rejects.toBeInstanceOf(ConfigError);
      bad.dispose();
    }
    const source = bigger(4, 16);
    await distill({ ...opts, student: student(3), data: data(4), cacheData: source });
    const index = JSON.parse(await fs.readFile(path.join(cacheDir, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ count: 8, lrSize: 12, hrSize: 24 });
    expect(index.description).toMatch(/p=16 .*centre=12$/);
    source.dispose();
  });

  it('feature KD trains through 1x1 adapters and resumes them', async () => {
    const out = path.join(dir, 'feat');
    const schedule = { steps: 6, lr: 3e-3, warmup: 1, kind: 'constant' as const };
    const opts = { teacher, schedule, loss: { pixel: 1, output: 0.5, feature: 0.5 }, exportModels: false, checkpoint: { logEvery: 1 } };
    const full = await distill({ ...opts, student: student(5), data: data(6) });
    const part = await distill({ ...opts, schedule: { ...schedule, steps: 3 }, student: student(5), data: data(6), out });
    expect(part.history.map((h) => h.loss)).toEqual(full.history.slice(0, 3).map((h) => h.loss));
    const log = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(log[0].feature).toBeGreaterThan(0);
    const ckpt = await loadCheckpoint(path.join(out, 'last.ckpt'));
    expect(ckpt.tensors.some((t) => t.name.startsWith('adapter/'))).toBe(true);
    const resumed = await distill({ ...opts, student: student(9), data: data(6), out, resume: true });
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(3).map((h) => h.loss));
  });

  it('feature KD from a teacher cache: one teacher pass stores the features, steps read them (teacher idle), no leaks, exact resume', async () => {
    const cacheDir = path.join(dir, 'cache-features');
    const out = path.join(dir, 'feat-cached');
    const opts = { teacher, schedule: { steps: 6, lr: 3e-3, warmup: 1, kind: 'constant' as const }, loss: { pixel: 1, output: 1, feature: 1 }, cacheDir, cacheSize: 16, exportModels: false, checkpoint: { logEvery: 1 } };
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const s = student(7);
    const full = await distill({ ...opts, student: s, data: data(8), onProgress: (p) => p.stage === 'train' && counts.push(tf.memory().numTensors) });
    s.dispose();
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    const index = JSON.parse(await fs.readFile(path.join(cacheDir, 'index.json'), 'utf8'));
    expect(index.features.map((f: { tap: string }) => f.tap)).toEqual(featureTaps(teacher));

    // From here on the teacher must not run: the cache is reused and every batch carries its features.
    const layer = teacher.layers.find((l) => l.getClassName() === 'Conv2D')!;
    const calls = vi.spyOn(layer, 'apply');
    const stopped = await distill({ ...opts, student: student(7), data: data(8), out, onProgress: (p) => {
      if (p.stage === 'teacher-cache') throw new Error('the cache should have been reused');
      if (p.stage === 'train' && p.done === 3) throw new AbortError('stop');
    } }).catch((e) => e);
    expect(stopped).toBeInstanceOf(AbortError);
    const resumed = await distill({ ...opts, student: student(51), data: data(8), out, resume: true });
    expect(calls).not.toHaveBeenCalled();
    calls.mockRestore();
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(3).map((h) => h.loss));
    const log = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.loss !== undefined);
    expect(log.length).toBe(6);
    expect(log.every((r) => r.feature > 0 && r.output > 0)).toBe(true);

    // Output KD alone is served by the same cache. With cacheAugment false it replays the feature run's patches as
    // they are (the same first-step pixel loss from the same student), by default flipped and rotated (another one).
    const firstPixel = async (extra: { cacheAugment?: boolean }) => {
      const o = path.join(dir, `output-only-${String(extra.cacheAugment)}`);
      await distill({ ...opts, ...extra, loss: { pixel: 1, output: 1 }, schedule: { ...opts.schedule, steps: 1 }, student: student(7), data: data(8), out: o, onProgress: (p) => {
        if (p.stage === 'teacher-cache') throw new Error('the cache should have been reused');
      } });
      return JSON.parse((await fs.readFile(path.join(o, 'log.jsonl'), 'utf8')).split('\n')[0]).pixel as number;
    };
    const fullLog = (await fs.readFile(path.join(dir, 'feat-cached', 'log.jsonl'), 'utf8')).split('\n').map((l) => (l ? JSON.parse(l) : {}));
    expect(await firstPixel({ cacheAugment: false })).toBe(fullLog[0].pixel);
    expect(await firstPixel({})).not.toBe(fullLog[0].pixel);
    await expect(distill({ ...opts, student: student(7), data: data(8), cacheAugment: true })).rejects.toThrow(/not equivariant/);
    await expect(distill({ ...opts, student: student(7), data: data(8), cacheAugment: 'no' as unknown as boolean })).rejects.toThrow(ConfigError);
  });

  it('takes the feature term from a featureTeacher (an assistant) while output targets come from the teacher cache', async () => {
    const assistant = buildStudent({ arch: 'compact', scale: 2, width: 12, depth: 2, seed: 4 });
    const cacheDir = path.join(dir, 'cache-assistant');
    const out = path.join(dir, 'assistant');
    const opts = { teacher, featureTeacher: assistant, schedule: { steps: 4, lr: 3e-3, warmup: 1, kind: 'constant' as const }, loss: { pixel: 1, output: 1, feature: 1 }, cacheDir, cacheSize: 8, exportModels: false, checkpoint: { logEvery: 1 } };
    const before = tf.memory().numTensors;
    const s = student(11);
    // The assistant runs on every batch; the teacher only fills the cache.
    const assistantCalls = vi.spyOn(assistant.layers.find((l) => l.getClassName() === 'Conv2D')!, 'apply');
    await distill({ ...opts, student: s, data: data(12), out });
    expect(assistantCalls.mock.calls.length).toBeGreaterThanOrEqual(4);
    assistantCalls.mockRestore();
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // The cache holds the teacher's predictions and no features, so its batches may still be flipped (the default).
    const index = JSON.parse(await fs.readFile(path.join(cacheDir, 'index.json'), 'utf8'));
    expect(index.features ?? []).toEqual([]);
    const log = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(log.every((r) => r.feature > 0 && r.output > 0)).toBe(true);
    // Student 8 wide, assistant 12: the adapters are trained and checkpointed.
    const ckpt = await loadCheckpoint(path.join(out, 'last.ckpt'));
    expect(ckpt.tensors.filter((t) => t.name.startsWith('adapter/')).map((t) => t.shape)).toContainEqual([8, 12]);
    await expect(distill({ ...opts, loss: { pixel: 1, output: 1 }, student: student(11), data: data(12) })).rejects.toThrow(/featureTeacher is the source of feature distillation/);
    assistant.dispose();
  });

  it('learns from unlabeled images (no HR): patches at their own resolution, the teacher predictions as targets', async () => {
    const photos = path.join(dir, 'photos');
    await fs.mkdir(photos, { recursive: true });
    // Two 20x16 "low-resolution photos": a 12-pixel patch fits at their own size, but not at 1/2 of it.
    for (const [i, c] of [[0, 40], [1, 200]]) {
      const px = Buffer.alloc(20 * 16 * 3, c);
      for (let k = 0; k < px.length; k += 7) px[k] = 255 - c;
      await sharp(px, { raw: { width: 20, height: 16, channels: 3 } }).png().toFile(path.join(photos, `p${i}.png`));
    }
    const unlabeled = await imageFolderDataset(photos, { scale: 2, patchSize: 12, batchSize: 4, seed: 1, unlabeled: true });
    expect(unlabeled.unlabeled).toBe(true);
    const a = await unlabeled.nextArrays();
    expect(a).toMatchObject({ lrSize: 12, hrSize: 24, unlabeled: true });
    expect(a.hr.every((v) => v === 0)).toBe(true);
    await expect(imageFolderDataset(photos, { scale: 2, patchSize: 12, batchSize: 4 }).then((d) => d.nextArrays())).rejects.toThrow(/smaller than the HR patch/);
    // Without a cache there is no target: a clear error.
    await expect(distill({ teacher, student: student(5), data: unlabeled, schedule: { steps: 2 } })).rejects.toThrow(ConfigError);
    const cacheDir = path.join(dir, 'cache-unlabeled');
    // Teacher-bounded KD compares the teacher with HR, which unlabeled data lack.
    await expect(distill({ teacher, student: student(5), data: unlabeled, schedule: { steps: 2 }, cacheDir, loss: { outputBounded: true } })).rejects.toThrow(/outputBounded .* unlabeled data have none/);
    const r = await distill({ teacher, student: student(5), data: unlabeled, schedule: { steps: 4, lr: 3e-3, warmup: 1 }, cacheDir, cacheSize: 8, exportModels: false });
    expect(r.history.length).toBe(4);
    const cached = await loadTeacherCache(cacheDir);
    expect(Array.from(cached.hr)).toEqual(Array.from(cached.teacher));
    unlabeled.dispose();
  });

  it('validates its inputs', async () => {
    const schedule = { steps: 2 };
    await expect(distill({ teacher: undefined as never, student: student(), data: data(), schedule })).rejects.toBeInstanceOf(ConfigError);
    const fnTeacher = (lr: tf.Tensor4D) => tf.image.resizeBilinear(lr, [lr.shape[1] * 2, lr.shape[2] * 2]) as tf.Tensor4D;
    await expect(distill({ teacher: fnTeacher, student: student(), data: data(), schedule, loss: { feature: 1 } })).rejects.toThrow(/feature distillation needs a layers-model teacher/);
    await expect(distill({ teacher: fnTeacher, student: student(), data: data(), schedule, validation: { every: 1 }, valEvery: 1 })).rejects.toThrow(/valEvery and validation\.every/);
    const r = await distill({ teacher: fnTeacher, student: student(), data: data(), schedule });
    expect(r.step).toBe(2);
  });

  it('runs a layers-model teacher through ONNX Runtime when it matches TF.js, else TF.js', async () => {
    const x = tf.randomUniform([2, 10, 10, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const onnx = await prepareTeacher(teacher, 'auto');
    const tfjs = await prepareTeacher(teacher, 'tfjs');
    expect(tfjs.runtime).toBe('tfjs');
    expect(['onnx', 'tfjs']).toContain(onnx.runtime);
    const [a, b] = [await onnx.run(x), await tfjs.run(x)];
    expect(a.shape).toEqual([2, 20, 20, 3]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeLessThan(2e-3);
    tf.dispose([a, b, x]);
    await onnx.dispose();
    const fn = await prepareTeacher((lr) => tf.image.resizeBilinear(lr, [lr.shape[1] * 2, lr.shape[2] * 2]), 'auto');
    expect(fn.runtime).toBe('function');
  });
});
