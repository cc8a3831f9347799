/**
 * A teacher's tap features: prepared through ONNX Runtime with every output checked against TF.js, stored in the
 * teacher cache as float16 in the same pass as its predictions, and replayed by `openTeacherCache` with the patches
 * they belong to.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { syntheticDataset } from '../src/data/datasets';
import { ConfigError } from '../src/errors';
import { buildEmt } from '../src/models/emt';
import { featureTaps, tapModel } from '../src/models/taps';
import { openTeacherCache } from '../src/train/cached-dataset';
import { prepareTeacher } from '../src/train/teacher';
import { ensureTeacherCache, loadTeacherCache } from '../src/train/teacher-cache';
import type { Progress } from '../src/core/task';
import type { PatchBatch } from '../src/data/types';
import { relErr } from './numeric';
import { hasOrt } from './has-ort';

/** A tiny EMT with three blocks: three taps (body.0, body.1, body.2) of 10 channels. */
const tinyEmt = () => buildEmt({ scale: 2, dim: 10, blocks: 3, layers: 1, attentionLayers: 1, heads: 1, windows: [[4, 2], [2, 4]], shifts: [[2, 1], [1, 2]], seed: 4 });
const data = () => syntheticDataset({ scale: 2, patchSize: 8, batchSize: 4, seed: 3, images: 4, imageSize: 32 });


let dir: string;
let emt: ReturnType<typeof buildEmt>;
beforeAll(async () => {
  await useBackend('cpu');
  emt = tinyEmt();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-tfeat-'));
});
afterAll(async () => {
  emt.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('prepareTeacher with feature taps', () => {
  it.skipIf(!hasOrt)('runs the tapped teacher through ONNX Runtime, matching TF.js on the prediction and every tap, without leaks', async () => {
    const taps = featureTaps(emt);
    expect(taps).toEqual(['body.0', 'body.1', 'body.2']);
    const onnx = await prepareTeacher(emt, 'onnx', { taps, threads: 1 });
    const tfjs = await prepareTeacher(emt, 'tfjs', { taps });
    expect([onnx.runtime, tfjs.runtime]).toEqual(['onnx', 'tfjs']);
    expect(onnx.taps).toEqual(taps);
    const x = tf.tidy(() => tf.add(tf.mul(tf.sin(tf.mul(tf.reshape(tf.range(0, 2 * 8 * 8 * 3), [2, 8, 8, 3]), 0.07)), 0.4), 0.5) as tf.Tensor4D);
    const n = tf.memory().numTensors;
    const a = await onnx.runWithFeatures(x);
    const b = await tfjs.runWithFeatures(x);
    expect(a.features.map((f) => f.shape)).toEqual([[2, 8, 8, 10], [2, 8, 8, 10], [2, 8, 8, 10]]);
    expect(a.output.shape).toEqual([2, 16, 16, 3]);
    expect(relErr(a.output.dataSync(), b.output.dataSync())).toBeLessThan(1e-4);
    a.features.forEach((f, i) => expect(relErr(f.dataSync(), b.features[i].dataSync()), taps[i]).toBeLessThan(1e-4));
    // run() gives the prediction alone.
    const y = await onnx.run(x);
    expect(y.shape).toEqual([2, 16, 16, 3]);
    tf.dispose([a.output, ...a.features, b.output, ...b.features, y]);
    expect(tf.memory().numTensors).toBe(n);
    x.dispose();
    await onnx.dispose();
  });

  it.skipIf(!hasOrt)('falls back to TF.js (auto) or fails (onnx) when one tap of the ONNX export differs from TF.js', async () => {
    const actual = await vi.importActual<typeof import('../src/backends/onnx-runner')>('../src/backends/onnx-runner');
    vi.doMock('../src/backends/onnx-runner', () => ({
      ...actual,
      createOnnxRunner: async (...args: Parameters<typeof actual.createOnnxRunner>) => {
        const runner = await actual.createOnnxRunner(...args);
        // Tap body.2 comes back off by 1 % of its magnitude (plus a little).
        const runTensors = async (x: tf.Tensor4D) => {
          const outs = await runner.runTensors(x);
          return outs.map((y, i) => {
            if (runner.outputNames[i] !== 'body.2') return y;
            const off = tf.tidy(() => tf.add(y, tf.add(tf.mul(tf.max(tf.abs(y)), 0.01), 0.01))) as tf.Tensor4D;
            y.dispose();
            return off;
          });
        };
        return { ...runner, runTensors };
      },
    }));
    try {
      const taps = featureTaps(emt);
      const n = tf.memory().numTensors;
      const auto = await prepareTeacher(emt, 'auto', { taps, threads: 1 });
      expect(auto.runtime).toBe('tfjs');
      expect(auto.fallbackReason).toMatch(/differs from TF\.js .*feature "body\.2"/);
      await expect(prepareTeacher(emt, 'onnx', { taps, threads: 1 })).rejects.toThrow(/feature "body\.2"/);
      // Without that tap, the same export passes.
      const other = await prepareTeacher(emt, 'auto', { taps: ['body.0', 'body.1'], threads: 1 });
      expect(other.runtime).toBe('onnx');
      await other.dispose();
      expect(tf.memory().numTensors).toBe(n);
    } finally {
      vi.doUnmock('../src/backends/onnx-runner');
    }
  });

  it('rejects taps on a function teacher and taps that name no layer', async () => {
    const fn = (lr: tf.Tensor4D) => tf.image.resizeBilinear(lr, [lr.shape[1] * 2, lr.shape[2] * 2]) as tf.Tensor4D;
    await expect(prepareTeacher(fn, 'auto', { taps: ['x'] })).rejects.toThrow(/layers-model teacher/);
    await expect(prepareTeacher(emt, 'tfjs', { taps: ['no-such-layer'] })).rejects.toThrow(ConfigError);
    await expect(prepareTeacher(emt, 'tfjs', { taps: [] })).rejects.toThrow(ConfigError);
  });
});

describe('teacher cache with features', () => {
  it('stores each tap (float16, shapes and names in the index), replays them with their patches, and keys on the taps', async () => {
    const cacheDir = path.join(dir, 'cache');
    const taps = ['body.0', 'body.2'];
    const ds = data();
    const index = await ensureTeacherCache(emt, ds, { dir: cacheDir, count: 8, taps });
    expect(index.features).toEqual([
      { tap: 'body.0', file: 'features-0.bin', shape: [8, 8, 8, 10], dtype: 'f16' },
      { tap: 'body.2', file: 'features-1.bin', shape: [8, 8, 8, 10], dtype: 'f16' },
    ]);
    expect((await fs.stat(path.join(cacheDir, 'features-1.bin'))).size).toBe(8 * 8 * 8 * 10 * 2);

    // The stored features are the teacher's features of the stored LR patches, within float16 rounding.
    const cache = await loadTeacherCache(cacheDir);
    expect(cache.features?.length).toBe(2);
    const lr = tf.tensor4d(Float32Array.from(cache.lr, (v) => (cache.index.dtypes.lr === 'u8' ? v / 255 : NaN)), [8, 8, 8, 3]);
    expect(cache.index.dtypes.lr).toBe('u8');
    const ref = tapModel(emt, taps).predict(lr) as tf.Tensor[];
    const { decodeFloat16 } = await import('../src/train/float16');
    for (let i = 0; i < 2; i++) expect(relErr(decodeFloat16(cache.features![i]), ref[i + 1].dataSync())).toBeLessThan(2e-3);
    expect(relErr(decodeFloat16(cache.teacher), tf.clipByValue(ref[0], 0, 1).dataSync())).toBeLessThan(2e-3);
    tf.dispose([lr, ...ref]);

    // Replay: each batch carries its patches' features, unaugmented (features are not equivariant).
    const n = tf.memory().numTensors;
    const cached = await openTeacherCache(cacheDir, { batchSize: 3, seed: 5 });
    expect(cached.description).toMatch(/aug=false features=2$/);
    const batch = (await cached[Symbol.asyncIterator]().next()).value as PatchBatch;
    expect(batch.teacherFeatures?.map((f) => f.shape)).toEqual([[3, 8, 8, 10], [3, 8, 8, 10]]);
    const live = tapModel(emt, taps).predict(batch.lr) as tf.Tensor[];
    batch.teacherFeatures!.forEach((f, i) => expect(relErr(f.dataSync(), live[i + 1].dataSync())).toBeLessThan(2e-3));
    tf.dispose([batch.lr, batch.hr, batch.teacher!, ...batch.teacherFeatures!, ...live]);
    expect(tf.memory().numTensors).toBe(n);
    const plain = await openTeacherCache(cacheDir, { batchSize: 3, features: false });
    expect((await plain.nextArrays()).teacherFeatures).toBeUndefined();
    await expect(openTeacherCache(cacheDir, { augment: true })).rejects.toThrow(/not equivariant/);

    // Same taps: reused. Other taps: rebuilt under another key. No taps: served by the cache with features as it is.
    // Another count without taps: rebuilt without features (old files removed).
    const reports: Progress[] = [];
    expect((await ensureTeacherCache(emt, ds, { dir: cacheDir, count: 8, taps, onProgress: (p) => reports.push(p) })).key).toBe(index.key);
    expect(reports).toEqual([]);
    const one = await ensureTeacherCache(emt, ds, { dir: cacheDir, count: 8, taps: ['body.1'] });
    expect(one.key).not.toBe(index.key);
    expect(one.features?.map((f) => f.tap)).toEqual(['body.1']);
    await expect(fs.stat(path.join(cacheDir, 'features-1.bin'))).rejects.toThrow();
    const served: Progress[] = [];
    expect((await ensureTeacherCache(emt, ds, { dir: cacheDir, count: 8, onProgress: (p) => served.push(p) })).key).toBe(one.key);
    expect(served).toEqual([]);
    expect((await fs.readdir(cacheDir)).filter((f) => f.startsWith('features-'))).toEqual(['features-0.bin']);
    const none = await ensureTeacherCache(emt, ds, { dir: cacheDir, count: 12 });
    expect(new Set([index.key, one.key, none.key]).size).toBe(3);
    expect(none.features).toBeUndefined();
    expect((await fs.readdir(cacheDir)).filter((f) => f.startsWith('features-'))).toEqual([]);
    await expect(openTeacherCache(cacheDir, { features: true })).rejects.toThrow(ConfigError);
    await expect(ensureTeacherCache(emt, ds, { dir: cacheDir, count: 8, taps, ensemble: 2 })).rejects.toThrow(ConfigError);
    ds.dispose();
  });

  it('with context (a smaller patchSize), stores the centres of the features as of the predictions', async () => {
    const ds = syntheticDataset({ scale: 2, patchSize: 12, batchSize: 4, seed: 3, images: 4, imageSize: 32 });
    const index = await ensureTeacherCache(emt, ds, { dir: path.join(dir, 'cache-context'), count: 4, taps: ['body.1'], patchSize: 8 });
    expect(index.features?.[0].shape).toEqual([4, 8, 8, 10]);
    const cache = await loadTeacherCache(path.join(dir, 'cache-context'));
    ds.restore({ seed: 3, batch: 0 });
    const a = await ds.nextArrays();
    const lr = tf.tensor4d(a.lr, [4, 12, 12, 3]);
    const ref = tapModel(emt, ['body.1']).predict(lr) as tf.Tensor4D[];
    const { decodeFloat16 } = await import('../src/train/float16');
    const centre = (t: tf.Tensor4D, side: number) => tf.slice(t, [0, (t.shape[1] - side) / 2, (t.shape[2] - side) / 2, 0], [-1, side, side, -1]);
    expect(relErr(decodeFloat16(cache.features![0]), centre(ref[1], 8).dataSync())).toBeLessThan(2e-3);
    expect(relErr(decodeFloat16(cache.teacher), tf.clipByValue(centre(ref[0], 16), 0, 1).dataSync())).toBeLessThan(2e-3);
    tf.dispose([lr, ...ref]);
    ds.dispose();
  });
});
