import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../src/errors';
import { learningRateAt, checkSchedule } from '../src/train/schedule';
import { Adam, globalNorm } from '../src/train/adam';
import { normalizeTrainOptions, resolveTrainOptions, type TrainOptions } from '../src/train/options';
import { WeightEma } from '../src/train/ema';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint';
import { decodeFloat16, encodeFloat16 } from '../src/train/float16';
import { ensureTeacherCache, loadTeacherCache } from '../src/train/teacher-cache';
import { openTeacherCache } from '../src/train/cached-dataset';
import { selfEnsemble } from '../src/train/self-ensemble';
import { syntheticDataset } from '../src/data/datasets';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-parts-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('schedules', () => {
  it('warm up linearly, then follow cosine / step / constant', () => {
    const s = { lr: 1, steps: 110, warmup: 10 };
    expect(learningRateAt(1, s)).toBeCloseTo(1 / 11, 9);
    expect(learningRateAt(10, s)).toBeCloseTo(10 / 11, 9);
    expect(learningRateAt(11, s)).toBeCloseTo(1, 3);
    expect(learningRateAt(60, s)).toBeCloseTo(0.01 + 0.99 * 0.5, 9);
    expect(learningRateAt(110, s)).toBeCloseTo(0.01, 9);
    const st = { kind: 'step' as const, lr: 1, steps: 100, stepSize: 25, gamma: 0.1 };
    expect(learningRateAt(25, st)).toBe(1);
    expect(learningRateAt(26, st)).toBeCloseTo(0.1, 9);
    expect(learningRateAt(80, { kind: 'constant', lr: 0.5, steps: 100 })).toBe(0.5);
    expect(() => checkSchedule({ kind: 'linear' as never, lr: 1, steps: 1 })).toThrow(ConfigError);
  });

  it('start: a fresh cycle over steps start+1..steps, the same curve shifted', () => {
    const base = { lr: 1, steps: 110, warmup: 10 };
    const shifted = { lr: 1, steps: 1110, warmup: 10, start: 1000 };
    for (const k of [1, 10, 11, 60, 110]) expect(learningRateAt(1000 + k, shifted)).toBeCloseTo(learningRateAt(k, base), 12);
    const st = { kind: 'step' as const, lr: 1, steps: 10, stepSize: 2, gamma: 0.5, start: 1 };
    expect([2, 3, 4, 5, 6].map((k) => learningRateAt(k, st))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(() => checkSchedule({ lr: 1, steps: 100, start: 100 })).toThrow(/schedule start/);
    expect(() => checkSchedule({ lr: 1, steps: 100, start: -1 })).toThrow(ConfigError);
    // A start past the end is named as such, not as the (negative) default warmup it implies.
    expect(() => resolveTrainOptions({ schedule: { steps: 100, start: 150 } })).toThrow(/schedule start/);
  });
});

describe('training options', () => {
  const valSet = { scale: 2 as const, images: [] };
  const onProgress = () => {};
  const flat: TrainOptions = {
    steps: 300, lr: 2e-3, schedule: 'step', warmup: 7, minLr: 1e-5, scheduleStart: 10, stepSize: 40, gamma: 0.7, clip: 0.5, ema: 0.99,
    loss: { pixel: 1, ssim: 0.1 }, val: 'Set5', valEvery: 25, valImages: 3, valDegradation: { noise: false },
    checkpointEvery: 50, checkpointPrecision: 'compact', logEvery: 5,
    out: 'runs/a', resume: true, seed: 4, exportModels: false, dryRun: true, meta: { arch: 'espcn' }, onProgress,
  };
  const grouped: TrainOptions = {
    schedule: { steps: 300, lr: 2e-3, kind: 'step', warmup: 7, minLr: 1e-5, start: 10, stepSize: 40, gamma: 0.7, clip: 0.5, ema: 0.99 },
    loss: { pixel: 1, ssim: 0.1 },
    validation: { folder: 'Set5', every: 25, images: 3, degradation: { noise: false } },
    checkpoint: { every: 50, precision: 'compact', logEvery: 5 },
    out: 'runs/a', resume: true, seed: 4, exportModels: false, dryRun: true, meta: { arch: 'espcn' }, onProgress,
  };

  it('a flat call (the deprecated keys) and a grouped call normalise and resolve to the same options', () => {
    const n = normalizeTrainOptions(flat);
    expect(n).toEqual(normalizeTrainOptions(grouped));
    expect(n).toEqual(grouped);
    // Only the grouped shape comes out: no deprecated key is left.
    expect(Object.keys(n).filter((k) => k in { steps: 1, lr: 1, val: 1, valEvery: 1, checkpointEvery: 1, logEvery: 1 })).toEqual([]);
    expect(resolveTrainOptions(flat)).toEqual(resolveTrainOptions(grouped));
    // A loaded validation set: `val` maps to validation.set.
    expect(normalizeTrainOptions({ steps: 5, val: valSet }).validation).toEqual({ set: valSet });
    // Keys that are not training options (the student, the data, a teacher) are left out.
    expect(normalizeTrainOptions({ schedule: { steps: 5 }, student: {}, data: {} } as TrainOptions)).toEqual({ schedule: { steps: 5 } });
  });

  it('applies the defaults in the groups', () => {
    const r = resolveTrainOptions({ schedule: { steps: 1000 } });
    expect(r.schedule).toEqual({ steps: 1000, lr: 1e-3, kind: 'cosine', warmup: 20, clip: 0, ema: 0, skipSpikes: 0 });
    expect(r.validation).toEqual({ every: 500 });
    expect(r.checkpoint).toEqual({ every: 500, precision: 'full', logEvery: 10 });
    expect(r).toMatchObject({ seed: 0, exportModels: true });
    expect(resolveTrainOptions({ schedule: { steps: 1000 }, validation: { every: 40 } }).checkpoint.every).toBe(40);
    expect(resolveTrainOptions({ schedule: { steps: 1000, start: 500 } }).schedule.warmup).toBe(10);
  });

  it('a setting given both ways, a typo in a group and a bad value are ConfigErrors that name the key', () => {
    const bad: [TrainOptions, RegExp][] = [
      [{ steps: 10, schedule: { steps: 10 } }, /steps and schedule\.steps are the same setting, given both ways/],
      [{ schedule: { steps: 10, lr: 1e-3 }, lr: 1e-3 }, /lr and schedule\.lr/],
      [{ schedule: { steps: 10 }, val: 'Set5', validation: { folder: 'Set5' } }, /val and validation\.folder/],
      [{ schedule: { steps: 10 }, valEvery: 5, validation: { every: 5 } }, /valEvery and validation\.every/],
      [{ schedule: { steps: 10 }, logEvery: 5, checkpoint: { logEvery: 5 } }, /logEvery and checkpoint\.logEvery/],
      [{ schedule: { stpes: 10 } as never }, /schedule\.stpes is not a training option \(did you mean "schedule\.steps"\?\)/],
      [{ schedule: { steps: 10 }, checkpoint: 100 as never }, /checkpoint must be an object/],
      [{ schedule: { lr: 1e-3 } as never }, /schedule\.steps is required/],
      [{}, /schedule\.steps is required/],
      [{ schedule: { steps: 0 } }, /schedule\.steps must be an integer >= 1/],
      [{ schedule: { steps: 10, ema: 2 } }, /schedule\.ema/],
      [{ schedule: { steps: 10 }, validation: { every: 0 } }, /validation\.every/],
      [{ schedule: { steps: 10 }, validation: { folder: 'Set5', set: valSet } }, /folder \(a path\) or set \(a loaded set\), not both/],
      [{ schedule: { steps: 10 }, checkpoint: { precision: 'half' as never } }, /checkpoint\.precision must be 'full' or 'compact'/],
      [{ schedule: { steps: 10 }, resume: true }, /resume: true needs out/],
    ];
    for (const [o, message] of bad) {
      expect(() => resolveTrainOptions(o), JSON.stringify(o)).toThrow(ConfigError);
      expect(() => resolveTrainOptions(o), JSON.stringify(o)).toThrow(message);
    }
    expect(() => resolveTrainOptions(undefined as never)).toThrow(ConfigError);
  });
});

describe('Adam, clipping, EMA', () => {
  it('matches tf.train.adam and round-trips its state', () => {
    const target = tf.tensor1d([1, -2, 3]);
    const a = tf.variable(tf.tensor1d([0, 0, 0]));
    const b = tf.variable(tf.tensor1d([0, 0, 0]));
    const mine = new Adam([a]);
    const ref = tf.train.adam(0.1);
    const loss = (v: tf.Variable) => () => tf.sum(tf.square(tf.sub(v, target))) as tf.Scalar;
    for (let i = 0; i < 5; i++) {
      const g = tf.variableGrads(loss(a), [a]);
      mine.apply([g.grads[a.name]], 0.1);
      tf.dispose(g);
      ref.minimize(loss(b), false, [b]);
    }
    const da = a.dataSync();
    const db = b.dataSync();
    for (let i = 0; i < 3; i++) expect(da[i]).toBeCloseTo(db[i], 5);
    const saved = mine.getState();
    expect(saved.step).toBe(5);
    const other = new Adam([a]);
    other.setState(saved);
    expect(Array.from(other.getState().m[0])).toEqual(Array.from(saved.m[0]));
    const n = globalNorm([tf.tensor1d([3]), tf.tensor1d([4])]);
    expect(n.dataSync()[0]).toBeCloseTo(5, 6);
    tf.dispose([target, a, b, n]);
    mine.dispose();
    other.dispose();
    ref.dispose();
  });

  it('host and device engines give the same updates (with a clip scale) and exchange state', () => {
    const shapes = [[3, 3, 2, 4], [4], [1, 1, 1, 4]];
    const init = shapes.map((sh, i) => tf.randomNormal(sh, 0, 1, 'float32', i + 1));
    const [hostVars, devVars] = [init.map((t) => tf.variable(t.clone())), init.map((t) => tf.variable(t.clone()))];
    const host = new Adam(hostVars, { engine: 'host' });
    const dev = new Adam(devVars, { engine: 'device' });
    expect([host.engine, dev.engine]).toEqual(['host', 'device']);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 6; step++) {
      const grads = shapes.map((sh, i) => tf.randomNormal(sh, 0, 1, 'float32', 100 * step + i));
      host.apply(grads, 1e-2, step % 2 ? 0.5 : 1);
      dev.apply(grads, 1e-2, step % 2 ? 0.5 : 1);
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before); // no tensor left over by either engine
    hostVars.forEach((v, i) => {
      const [a, b] = [v.dataSync(), devVars[i].dataSync()];
      for (let j = 0; j < a.length; j++) expect(Math.abs(a[j] - b[j])).toBeLessThan(1e-6);
    });
    // State moves between engines (checkpoints written by one resume in the other).
    const fromHost = host.getState();
    const dev2 = new Adam(devVars, { engine: 'device' });
    dev2.setState(fromHost);
    const back = dev2.getState();
    expect(back.step).toBe(6);
    back.m.forEach((m, i) => expect(Array.from(m)).toEqual(Array.from(fromHost.m[i])));
    expect(() => host.setState({ step: 1, m: [new Float32Array(2)], v: [new Float32Array(2)] })).toThrow(ConfigError);
    tf.dispose([...init, ...hostVars, ...devVars]);
    for (const a of [host, dev, dev2]) a.dispose();
  });

  it('EMA: host and device engines agree through updates, swaps and state', () => {
    const init = [tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 1), tf.randomNormal([4], 0, 1, 'float32', 2)];
    const [hv, dv] = [init.map((t) => tf.variable(t.clone())), init.map((t) => tf.variable(t.clone()))];
    const [h, d] = [new WeightEma(hv, 0.9, { engine: 'host' }), new WeightEma(dv, 0.9, { engine: 'device' })];
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) {
      tf.tidy(() => [hv, dv].forEach((vars) => vars.forEach((v, i) => v.assign(tf.mul(v, 1.1 + 0.01 * i)))));
      h.update();
      d.update();
    }
    h.swap();
    d.swap();
    hv.forEach((v, i) => expect(Math.max(...Array.from(v.dataSync()).map((x, j) => Math.abs(x - dv[i].dataSync()[j])))).toBeLessThan(1e-5));
    h.swap();
    d.swap();
    hv.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(dv[i].dataSync())));
    const d2 = new WeightEma(dv, 0.9, { engine: 'device' });
    d2.setState(h.getState());
    expect(d2.getState().values.map((x) => Array.from(x))).toEqual(h.getState().values.map((x) => Array.from(x)));
    expect(tf.memory().numTensors).toBe(before + init.length); // d2's shadows only
    tf.dispose([...init, ...hv, ...dv]);
    for (const e of [h, d, d2]) e.dispose();
  });

  it('EMA averages, swaps and restores', () => {
    const v = tf.variable(tf.scalar(0));
    const ema = new WeightEma([v], 0.5);
    v.assign(tf.scalar(10));
    ema.update(); // d = min(0.5, 2/11) -> 0.1818...
    const d = 2 / 11;
    ema.swap();
    expect(v.dataSync()[0]).toBeCloseTo(10 * (1 - d), 5);
    ema.swap();
    expect(v.dataSync()[0]).toBe(10);
    const st = ema.getState();
    expect(st.count).toBe(1);
    v.dispose();
    ema.dispose();
  });
});

describe('checkpoints and float16', () => {
  it('round-trip bytes and files, and reject corrupt ones with InputError', async () => {
    const c = { step: 7, meta: { a: [1, 2], s: 'x' }, tensors: [{ name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }, { name: 'b', shape: [1], data: Float32Array.from([-1]) }] };
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(back.step).toBe(7);
    expect(back.meta).toEqual(c.meta);
    expect(Array.from(back.tensors[0].data)).toEqual([1, 2, 3, 4, 5, 6.5]);
    const f = path.join(dir, 'x.ckpt');
    await saveCheckpoint(f, c);
    expect((await loadCheckpoint(f)).tensors[1].data[0]).toBe(-1);
    await fs.writeFile(path.join(dir, 'bad.ckpt'), 'garbage!!!!!!!!!!');
    await expect(loadCheckpoint(path.join(dir, 'bad.ckpt'))).rejects.toBeInstanceOf(InputError);
    const truncated = encodeCheckpoint(c).subarray(0, 60);
    expect(() => decodeCheckpoint(truncated)).toThrow(InputError);
    await expect(loadCheckpoint(path.join(dir, 'missing.ckpt'))).rejects.toThrow(/not found/);
  });

  it('bfloat16 storage: half the bytes, rounded to nearest within 2^-8 relative, NaN kept; version-1 files still load', () => {
    const vals = Float32Array.from([0, 1, -2, 0.1, 1e-30, 1e38, 1 + 2 ** -9, 1 + 3 * 2 ** -9, NaN, -Infinity]);
    const n = 4096;
    const big = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 6));
    const full = encodeCheckpoint({ step: 1, meta: {}, tensors: [{ name: 'a', shape: [n], data: big }] });
    const half = encodeCheckpoint({ step: 1, meta: {}, tensors: [{ name: 'a', shape: [n], data: big, storage: 'bfloat16' }] });
    expect(half.length).toBeLessThan(full.length * 0.55);
    const back = decodeCheckpoint(encodeCheckpoint({ step: 2, meta: {}, tensors: [{ name: 'v', shape: [vals.length], data: vals, storage: 'bfloat16' }, { name: 'w', shape: [1], data: Float32Array.from([0.1]) }] }));
    const v = back.tensors[0].data;
    expect(back.tensors[0].storage).toBe('bfloat16');
    expect(Array.from(v.slice(0, 3))).toEqual([0, 1, -2]);
    for (const i of [3, 4, 5]) expect(Math.abs(v[i] - vals[i])).toBeLessThanOrEqual(Math.abs(vals[i]) * 2 ** -8);
    expect(v[6]).toBe(1); // a quarter ulp rounds down
    expect(v[7]).toBe(1 + 2 ** -7);
    expect(v[8]).toBeNaN();
    expect(v[9]).toBe(-Infinity);
    expect(back.tensors[1].data[0]).toBe(Math.fround(0.1));
    // Version 1 (all float32, offsets in floats), as session-1 checkpoints were written.
    const header = new TextEncoder().encode(JSON.stringify({ version: 1, step: 3, meta: { k: 1 }, tensors: [{ name: 'x', shape: [2], offset: 0 }, { name: 'y', shape: [1], offset: 2 }] }));
    const start = Math.ceil((12 + header.length) / 4) * 4;
    const bytes = new Uint8Array(start + 12);
    bytes.set(new TextEncoder().encode('SKDCKPT1'));
    new DataView(bytes.buffer).setUint32(8, header.length, true);
    bytes.set(header, 12);
    new Float32Array(bytes.buffer, start, 3).set([1.5, -2, 7]);
    const old = decodeCheckpoint(bytes);
    expect(old.meta).toEqual({ k: 1 });
    expect(old.tensors.map((t) => Array.from(t.data))).toEqual([[1.5, -2], [7]]);
  });

  it('float16 encodes exactly representable values exactly and others within 1e-3 relative', () => {
    const v = Float32Array.from([0, 0.5, 1, -2, 0.1, 0.3333, 65504, 1e-5]);
    const back = decodeFloat16(encodeFloat16(v));
    expect(Array.from(back.slice(0, 4))).toEqual([0, 0.5, 1, -2]);
    for (let i = 4; i < v.length; i++) expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(1e-3 * Math.abs(v[i]) + 1e-7);
  });
});

describe('self-ensemble', () => {
  it('is exact for an equivariant model, averages the transformed-back outputs otherwise, and leaks nothing', async () => {
    const x = tf.randomUniform([2, 5, 5, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const nearest = (t: tf.Tensor4D) => tf.image.resizeNearestNeighbor(t, [t.shape[1] * 2, t.shape[2] * 2]) as tf.Tensor4D;
    const plain = nearest(x);
    const ens = await selfEnsemble(nearest, x, 8);
    expect(ens.shape).toEqual([2, 10, 10, 3]);
    const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(maxDiff(ens, plain)).toBeLessThan(1e-6);
    // Not equivariant: adds a ramp along W. Its 2-ensemble cancels the ramp's slope around the mean.
    const ramp = tf.tidy(() => tf.reshape(tf.range(0, 5, 1, 'float32'), [1, 1, 5, 1]));
    const skew = (t: tf.Tensor4D) => tf.add(t, ramp) as tf.Tensor4D;
    const two = await selfEnsemble(skew, x, 2);
    const shifted = tf.add(x, 2);
    expect(maxDiff(two, shifted)).toBeLessThan(1e-6);
    // Transposes swap H and W: with n = 8 the ramp is spread over both axes.
    const eight = await selfEnsemble(skew, x, 8);
    expect(maxDiff(eight, shifted)).toBeLessThan(1e-6);
    tf.dispose([plain, ens, ramp, two, eight, shifted]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(selfEnsemble(nearest, x, 3 as never)).rejects.toBeInstanceOf(ConfigError);
    x.dispose();
  });
});

describe('teacher cache', () => {
  it('runs the teacher once per patch, reuses the cache, and streams lr/hr/teacher batches', async () => {
    const data = syntheticDataset({ scale: 2, patchSize: 8, batchSize: 4, seed: 2, images: 3, imageSize: 40 });
    let calls = 0;
    // A deterministic "teacher": nearest-neighbour upscaling.
    const teacher = (lr: tf.Tensor4D) => {
      calls++;
      return tf.image.resizeNearestNeighbor(lr, [lr.shape[1] * 2, lr.shape[2] * 2]) as tf.Tensor4D;
    };
    const cacheDir = path.join(dir, 'cache');
    await expect(ensureTeacherCache(teacher, data, { dir: cacheDir, count: 10 })).rejects.toThrow(/teacherId/);
    const idx = await ensureTeacherCache(teacher, data, { dir: cacheDir, count: 10, teacherId: 'nn' });
    expect(idx.count).toBe(12);
    expect(calls).toBe(3);
    expect(idx.dtypes).toEqual({ lr: 'u8', hr: 'u8', teacher: 'f16' });
    expect(data.state().batch).toBe(0);
    await ensureTeacherCache(teacher, data, { dir: cacheDir, count: 10, teacherId: 'nn' });
    expect(calls).toBe(3);
    await ensureTeacherCache(teacher, data, { dir: cacheDir, count: 10, teacherId: 'nn-v2' });
    expect(calls).toBe(6);
    // A self-ensemble is another cache (8 teacher runs per batch); an equivariant teacher's targets are unchanged.
    const ens = await ensureTeacherCache(teacher, data, { dir: path.join(dir, 'cache-ens'), count: 10, teacherId: 'nn-v2', ensemble: 8 });
    expect(calls).toBe(6 + 3 * 8);
    expect(ens.description).toMatch(/ensemble=8/);

    const cached = await openTeacherCache(cacheDir, { batchSize: 5, seed: 1 });
    const before = tf.memory().numTensors;
    const it = cached[Symbol.asyncIterator]();
    const { value } = await it.next();
    expect(value!.teacher!.shape).toEqual([5, 16, 16, 3]);
    // The teacher target is nearest-neighbour of the (equally flipped/rotated) LR patch.
    const expected = tf.image.resizeNearestNeighbor(value!.lr, [16, 16]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(expected, value!.teacher!))).dataSync()[0]);
    expect(diff).toBeLessThan(2e-3);
    tf.dispose([value!.lr, value!.hr, value!.teacher!, expected]);
    expect(tf.memory().numTensors).toBe(before);
    const a = await cached.nextArrays();
    cached.restore({ seed: 1, batch: 1 });
    expect(Array.from((await cached.nextArrays()).teacher!)).toEqual(Array.from(a.teacher!));
  });
  it('with a smaller patchSize, runs the teacher on the whole patches and keeps their centres (context for its targets)', async () => {
    const big = syntheticDataset({ scale: 2, patchSize: 12, batchSize: 4, seed: 3, images: 3, imageSize: 40 });
    // A teacher that sees its borders: a 3x3 mean with zero padding, then nearest-neighbour x2.
    const teacher = (lr: tf.Tensor4D) =>
      tf.tidy(() => {
        const blurred = tf.depthwiseConv2d(lr, tf.fill([3, 3, 3, 1], 1 / 9) as tf.Tensor4D, 1, 'same');
        return tf.image.resizeNearestNeighbor(blurred as tf.Tensor4D, [lr.shape[1] * 2, lr.shape[2] * 2]) as tf.Tensor4D;
      });
    const cacheDir = path.join(dir, 'cache-context');
    await expect(ensureTeacherCache(teacher, big, { dir: cacheDir, count: 8, teacherId: 'mean', patchSize: 9 })).rejects.toBeInstanceOf(ConfigError);
    await expect(ensureTeacherCache(teacher, big, { dir: cacheDir, count: 8, teacherId: 'mean', patchSize: 14 })).rejects.toBeInstanceOf(ConfigError);
    const idx = await ensureTeacherCache(teacher, big, { dir: cacheDir, count: 8, teacherId: 'mean', patchSize: 8 });
    expect([idx.lrSize, idx.hrSize, idx.count]).toEqual([8, 16, 8]);
    expect(idx.description).toMatch(/centre=8/);
    // The same data and teacher without the crop is another cache.
    const whole = await ensureTeacherCache(teacher, big, { dir: path.join(dir, 'cache-whole'), count: 8, teacherId: 'mean' });
    expect(whole.key).not.toBe(idx.key);

    const cache = await loadTeacherCache(cacheDir);
    const centre = (t: tf.Tensor4D, from: number, side: number) => tf.slice(t, [0, (from - side) / 2, (from - side) / 2, 0], [-1, side, side, 3]);
    for (let b = 0; b < 2; b++) {
      big.restore({ seed: 3, batch: b });
      const a = await big.nextArrays();
      const lr = tf.tensor4d(a.lr, [4, 12, 12, 3]);
      const hr = tf.tensor4d(a.hr, [4, 24, 24, 3]);
      const predicted = teacher(lr);
      const stored = (arr: Uint8Array | Uint16Array, side: number) => {
        const n = 4 * side * side * 3;
        const part = arr.subarray(b * n, (b + 1) * n);
        const values = part instanceof Uint8Array ? Float32Array.from(part, (v) => v / 255) : decodeFloat16(part);
        return tf.tensor4d(values, [4, side, side, 3]);
      };
      const diff = (x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]);
      const [sLr, sHr, sTe] = [stored(cache.lr, 8), stored(cache.hr, 16), stored(cache.teacher, 16)];
      expect(diff(sLr, centre(lr, 12, 8))).toBeLessThan(1e-6);
      expect(diff(sHr, centre(hr, 24, 16))).toBeLessThan(1e-6);
      expect(diff(sTe, centre(predicted, 24, 16))).toBeLessThan(2e-3);
      // Made with context: at the stored patch's border the target is not what the teacher gives the bare patch.
      const bare = teacher(sLr);
      expect(diff(sTe, bare)).toBeGreaterThan(1e-2);
      expect(diff(tf.slice(sTe, [0, 2, 2, 0], [-1, 12, 12, 3]), tf.slice(bare, [0, 2, 2, 0], [-1, 12, 12, 3]))).toBeLessThan(2e-3);
      tf.dispose([lr, hr, predicted, sLr, sHr, sTe, bare]);
    }
  });
});

describe('validation protocol', () => {
  it('makes LR like MATLAB bicubic (x2) and like `sharpen-kd eval` at x1 (blind protocol; gaussian on request), and scores with Y-PSNR crop=scale', async () => {
    const { writeImage, readImage } = await import('../src/io/node-image');
    const { proceduralImage } = await import('../src/data/procedural');
    const { resizeBicubic } = await import('../src/metrics/resize-bicubic');
    const { modCrop } = await import('../src/metrics/mod-crop');
    const { psnr } = await import('../src/metrics/psnr');
    const { degradeForEval } = await import('../src/infer/evaluate');
    const { loadValidationSet, evaluateModel } = await import('../src/train/validate');
    const vdir = path.join(dir, 'val');
    await fs.mkdir(vdir, { recursive: true });
    const img = proceduralImage(3, 50, 45);
    await writeImage(path.join(vdir, 'a.png'), { data: img.data as Uint8Array, width: 50, height: 45, channels: 3, bits: 8 });
    const raw = await readImage(path.join(vdir, 'a.png'));

    const x2 = await loadValidationSet(vdir, 2);
    const want2 = resizeBicubic(modCrop(raw, 2), 1 / 2);
    expect([x2.images[0].lrWidth, x2.images[0].lrHeight]).toEqual([25, 22]);
    expect(Array.from(x2.images[0].lr).map((v) => Math.round(v * 255))).toEqual(Array.from(want2.data));

    const { degradeX1 } = await import('../src/data/x1-protocol');
    const { EVAL_X1_DEGRADATION } = await import('../src/train/validate');
    const x1 = await loadValidationSet(vdir, 1);
    const want1 = (await degradeX1(raw, 'a')).lr;
    expect(Array.from(x1.images[0].lr).map((v) => Math.round(v * 255))).toEqual(Array.from(want1.data));
    const gauss = await loadValidationSet(vdir, 1, { degradation: EVAL_X1_DEGRADATION });
    expect(Array.from(gauss.images[0].lr).map((v) => Math.round(v * 255))).toEqual(Array.from(degradeForEval(raw, 1, 1).data));

    // An identity "model" at x1 scores exactly the PSNR of the blurred input.
    const r = await evaluateModel((x) => tf.clone(x), x1);
    expect(r.psnr).toBeCloseTo(await psnr(want1, raw, { yChannel: true, crop: 1 }), 6);
    expect(r.ssim).toBeGreaterThan(0.3);
  });

  it('scores a gray HR image on its gray values, exactly as `sharpen-kd eval` and `sharpen-kd score` do', async () => {
    const { writeImage } = await import('../src/io/node-image');
    const { proceduralImage } = await import('../src/data/procedural');
    const { evaluateUpscaler } = await import('../src/infer/evaluate');
    const { scoreFolders } = await import('../src/cli/score');
    const { loadValidationSet, evaluateModel } = await import('../src/train/validate');
    const gdir = path.join(dir, 'val-gray');
    const sdir = path.join(dir, 'val-gray-sr');
    await fs.mkdir(gdir, { recursive: true });
    await fs.mkdir(sdir, { recursive: true });
    const rgb = proceduralImage(5, 48, 40);
    const gray = new Uint8Array(48 * 40);
    for (let i = 0; i < gray.length; i++) gray[i] = rgb.data[i * 3];
    await writeImage(path.join(gdir, 'g.png'), { data: gray, width: 48, height: 40, channels: 1, bits: 8 });

    const set = await loadValidationSet(gdir, 2);
    expect(set.images[0].hr.channels).toBe(1);
    // A nearest-neighbour "model" (no rounding ties): the same output in all three scorers.
    const up = (x: tf.Tensor4D) => tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]);
    const validated = await evaluateModel(up, set);
    const evaluated = await evaluateUpscaler(
      async (lr) => {
        const t = tf.tidy(() => tf.mul(up(tf.div(tf.tensor4d(Float32Array.from(lr.data), [1, lr.height, lr.width, 3]), 255) as tf.Tensor4D), 255));
        const data = Uint8Array.from(await t.data(), (v) => Math.max(0, Math.min(255, Math.round(v))));
        t.dispose();
        await writeImage(path.join(sdir, 'g.png'), { data, width: lr.width * 2, height: lr.height * 2, channels: 3, bits: 8 });
        return { data, width: lr.width * 2, height: lr.height * 2, channels: 3, bits: 8 };
      },
      gdir,
      { scale: 2, model: 'nearest', backend: 'tfjs' },
    );
    const scored = await scoreFolders(sdir, gdir, { scale: 2 });
    expect(validated.psnr).toBeCloseTo(evaluated.psnr, 6);
    expect(scored.psnr).toBeCloseTo(evaluated.psnr, 6);
    // Scoring the replicated RGB instead (studio-range Y) would give another figure: the gray path is taken.
    const { psnr } = await import('../src/metrics/psnr');
    const { readImage } = await import('../src/io/node-image');
    const sr = await readImage(path.join(sdir, 'g.png'));
    const asRgb = { data: Uint8Array.from({ length: 48 * 40 * 3 }, (_, i) => gray[Math.floor(i / 3)]), width: 48, height: 40, channels: 3 as const, bits: 8 as const };
    expect(Math.abs((await psnr(sr, asRgb, { yChannel: true, crop: 2 })) - evaluated.psnr)).toBeGreaterThan(0.01);
  });
});
