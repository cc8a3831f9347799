// The video pipeline's frame plumbing: RGB → I420 conversion, the temporal filter over planes of any size, and an
// ONNX Runtime session on a worker thread.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { ConfigError } from '../src/errors';
import { interleave } from '../src/infer/pixels';
import { Student, studentInternals } from '../src/infer/student';
import { buildStudent } from '../src/models/student';
import { lumaDetailModel } from '../src/models/onnx/i420-output';
import { modelToOnnx } from '../src/models/onnx/export';
import { readOnnxNodes, readOnnxOutputs } from '../src/models/onnx/proto';
import { LumaDetailTail } from '../src/infer/luma-detail-tail';
import { TemporalFilter } from '../src/video/temporal-filter';
import { i420ConvWeights, i420Size, rgbToI420 } from '../src/video/yuv';
import { testImage } from './infer-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A 2×2 frame of one colour, interleaved 8-bit. */
const flat = (r: number, g: number, b: number) => Uint8Array.from({ length: 12 }, (_, i) => [r, g, b][i % 3]);

describe('rgbToI420', () => {
  it('gives the standard studio-range values (BT.709 and BT.601)', () => {
    const yuv = (rgb: Uint8Array, m: string) => [...rgbToI420(rgb, 'interleaved', 2, 2, m, new Uint8Array(6))];
    expect(yuv(flat(255, 255, 255), 'bt709')).toEqual([235, 235, 235, 235, 128, 128]);
    expect(yuv(flat(0, 0, 0), 'bt709')).toEqual([16, 16, 16, 16, 128, 128]);
    expect(yuv(flat(255, 0, 0), 'bt709')).toEqual([63, 63, 63, 63, 102, 240]);
    expect(yuv(flat(0, 0, 255), 'bt709')).toEqual([32, 32, 32, 32, 240, 118]);
    expect(yuv(flat(255, 0, 0), 'smpte170m')).toEqual([81, 81, 81, 81, 90, 240]);
    expect(() => yuv(flat(0, 0, 0), 'xyz')).toThrow(ConfigError);
  });

  it('chroma is the 2×2 mean, luma per pixel; planar, interleaved float and 8-bit agree; out-of-range floats clamp', () => {
    const [w, h] = [6, 4];
    const rgb8 = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 97 + 13) % 256);
    const f = Float32Array.from(rgb8, (v) => v / 255);
    const a = rgbToI420(rgb8, 'interleaved', w, h, 'bt709', new Uint8Array(i420Size(w, h)));
    const b = rgbToI420(f, 'interleaved', w, h, 'bt709', new Uint8Array(i420Size(w, h)));
    const c = rgbToI420(interleave(f, w * h, true), 'planar', w, h, 'bt709', new Uint8Array(i420Size(w, h)));
    expect([...b]).toEqual([...a]);
    expect([...c]).toEqual([...a]);
    // The Cb of the block at (2, 0) from the mean of its four pixels.
    const px = [[0, 2], [0, 3], [1, 2], [1, 3]].map(([y, x]) => (y * w + x) * 3);
    const mean = (k: number) => px.reduce((s, i) => s + rgb8[i + k], 0) / 4 / 255;
    const e = 0.2126 * mean(0) + 0.7152 * mean(1) + 0.0722 * mean(2);
    expect(a[w * h + 1]).toBe(Math.round(128 + (224 * (mean(2) - e)) / (2 * (1 - 0.0722))));
    const over = Float32Array.from(f, (v, i) => (i % 5 === 0 ? v + 2 : i % 7 === 0 ? v - 2 : v));
    const clamped = Float32Array.from(over, (v) => Math.min(1, Math.max(0, v)));
    expect([...rgbToI420(over, 'interleaved', w, h, 'bt709', new Uint8Array(36))]).toEqual([...rgbToI420(clamped, 'interleaved', w, h, 'bt709', new Uint8Array(36))]);
    expect(() => rgbToI420(rgb8.subarray(0, 45), 'interleaved', 5, 3, 'bt709', new Uint8Array(36))).toThrow(/even/);
  });
});

describe('TemporalFilter over planes', () => {
  const noisy = (w: number, h: number, c: number, seed: number) => Uint8Array.from({ length: w * h * c }, (_, i) => 100 + (((i + 1) * (seed + 7) * 2654435761) >>> 29));

  it('one plane is push(); I420-like planes (luma ×2, chroma ×1) filter where the input is static and pass a cut', () => {
    const [w, h] = [12, 8];
    const a = new TemporalFilter({ strength: 0.5, noise: 2 });
    const b = new TemporalFilter({ strength: 0.5, noise: 2 });
    const p = new TemporalFilter({ strength: 0.5, noise: 2 });
    const base = noisy(w, h, 3, 0);
    let inPlace: TemporalFilter | undefined;
    for (let t = 0; t < 4; t++) {
      const input = { data: Uint8Array.from(base, (v, i) => v + ((i + t) % 3) - 1), width: w, height: h, channels: 3 as const };
      const out = { data: noisy(2 * w, 2 * h, 3, t), width: 2 * w, height: 2 * h, channels: 3 as const };
      const viaPush = a.push(input, out).data;
      const viaPlanes = b.pushPlanes(input, out.data, [{ offset: 0, width: 2 * w, height: 2 * h, channels: 3 }]);
      expect([...viaPlanes]).toEqual([...viaPush]);
      // Luma at 2× the input, two chroma planes at the input's size, after a 10-byte header left alone.
      const frame = new Uint8Array(10 + 4 * w * h + 2 * w * h).fill(0);
      frame.set(noisy(2 * w, 2 * h, 1, t), 10);
      frame.set(noisy(w, h, 1, t + 9), 10 + 4 * w * h);
      frame.set(noisy(w, h, 1, t + 5), 10 + 5 * w * h);
      frame.fill(t, 0, 10);
      const planes = [
        { offset: 10, width: 2 * w, height: 2 * h, channels: 1 },
        { offset: 10 + 4 * w * h, width: w, height: h, channels: 1 },
        { offset: 10 + 5 * w * h, width: w, height: h, channels: 1 },
      ];
      const copy = frame.slice();
      const got = p.pushPlanes(input, frame, planes);
      expect([...frame]).toEqual([...copy]); // not changed
      const q = t === 0 ? (inPlace = new TemporalFilter({ strength: 0.5, noise: 2 })) : inPlace!;
      expect([...q.pushPlanes(input, copy, planes, copy)]).toEqual([...got]); // the same, in place
      expect([...got.subarray(0, 10)]).toEqual(Array(10).fill(t));
      if (t === 0) expect([...got]).toEqual([...frame]);
      // Static input: every sample moves toward the previous output, so the output differs from this frame's.
      else expect(got.some((v, i) => i >= 10 && v !== frame[i])).toBe(true);
    }
    expect(p.stats).toMatchObject({ frames: 4, resets: 0 });
    const cut = { data: new Uint8Array(w * h * 3).fill(250), width: w, height: h, channels: 3 as const };
    const frame = noisy(2 * w, 3 * h, 1, 42);
    const planes = [{ offset: 0, width: 2 * w, height: 2 * h, channels: 1 }, { offset: 4 * w * h, width: w, height: h, channels: 1 }, { offset: 5 * w * h, width: w, height: h, channels: 1 }];
    expect([...p.pushPlanes(cut, frame, planes)]).toEqual([...frame]);
    expect(p.stats.resets).toBe(1);
    expect(() => p.pushPlanes(cut, frame, [{ offset: 0, width: 2 * w, height: 4 * h, channels: 1 }])).toThrow(/does not fit/);
    expect(() => p.pushPlanes(cut, frame, planes, new Uint8Array(3))).toThrow(/into holds 3/);
  });
});

describe('ONNX Runtime on a worker thread', () => {
  it('gives the same output as on the calling thread, keeps the caller\'s input, queues runs in order, and disposes', async () => {
    const model = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 });
    const here = await createOnnxRunner(model, { threads: 1, layout: 'nchw' });
    const there = await createOnnxRunner(model, { threads: 1, layout: 'nchw', offThread: true });
    const [h, w] = [7, 10];
    const xs = [1, 2, 3].map((seed) => interleave(testImage(h, w, seed), h * w, true));
    const want = await Promise.all(xs.map((x) => here.run(x, [1, 3, h, w])));
    const got = await Promise.all(xs.map((x) => there.run(x, [1, 3, h, w])));
    got.forEach((g, i) => {
      expect(g.shape).toEqual([1, 3, 2 * h, 2 * w]);
      expect(Math.max(...g.data.map((v, j) => Math.abs(v - want[i].data[j])))).toBeLessThan(1e-6);
    });
    expect(xs[0].length).toBe(3 * h * w); // not detached
    const bad = await there.run(xs[0], [1, 3, w, h + 1]).then(() => undefined, (e: Error) => e);
    expect(bad?.message).toMatch(/shape|data has/);
    const t = tf.tensor4d(testImage(h, w, 4), [1, h, w, 3]);
    const [ta, tb] = [await here.runTensor(t), await there.runTensor(t)];
    expect(tf.max(tf.abs(tf.sub(ta, tb))).dataSync()[0]).toBeLessThan(1e-6);
    await there.dispose();
    await expect(there.run(xs[0], [1, 3, h, w])).rejects.toThrow(/disposed/);
    await here.dispose();
    tf.dispose([t, ta, tb]);
    model.dispose();
  });

  it('process.exit with a run in flight exits with its code (onnxruntime-node would abort the process)', async () => {
    const script = path.join(__dirname, 'fixtures', 'onnx-worker-exit.mts');
    const model = path.join(__dirname, '..', 'models', 'x4', 'model.onnx');
    for (const delay of [30, 120]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, model, '384', String(delay)], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
      expect([r.status, r.signal]).toEqual([7, null]);
    }
  }, 120_000);

  it('a graph with I420 outputs (i420Output) writes what rgbToI420 makes of its RGB output, for any matrix', async () => {
    const model = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, detail: 'luma', residualInterpolation: 'bilinear', seed: 5 });
    const student = await Student.fromModel(model, { backend: 'onnx', threads: 1, offThread: true, i420Output: true, borrowModel: true });
    const plain = await Student.fromModel(model, { backend: 'onnx', threads: 1, borrowModel: true });
    const { runner } = studentInternals(student);
    expect(runner.runI420).toBeDefined();
    expect(studentInternals(plain).runner.runI420).toBeUndefined();
    const [h, w] = [9, 14];
    // Values beyond [0, 1] too, which the conversion clamps.
    const x = interleave(testImage(h, w, 7).map((v, i) => (i % 17 === 0 ? v * 1.6 - 0.3 : v)), h * w, true);
    const rgb = await runner.run(x, h, w, 3);
    for (const matrix of ['bt709', 'smpte170m']) {
      const want = rgbToI420(rgb, 'planar', 2 * w, 2 * h, matrix, new Uint8Array(i420Size(2 * w, 2 * h)));
      const got = await runner.runI420!(x, h, w, i420ConvWeights(matrix));
      expect(got.length).toBe(want.length);
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThanOrEqual(1); // ties round to even in ONNX
      expect(got.filter((v, i) => v !== want[i]).length).toBeLessThan(want.length / 100);
    }
    // Plain runs of the same session still give RGB, as the Student without I420 outputs does.
    const again = await studentInternals(plain).runner.run(x, h, w, 3);
    expect(Math.max(...again.map((v, i) => Math.abs(v - rgb[i])))).toBeLessThan(1e-6);
    student.dispose();
    plain.dispose();
    model.dispose();
  });

  it('a luma-detail student with i420Output runs a graph cut after its detail; the WebAssembly output stage makes the I420 frame of the whole graph', async () => {
    for (const scale of [2, 4] as const) {
      const model = buildStudent({ arch: 'compact', scale, width: 4, depth: 1, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 });
      const student = await Student.fromModel(model, { backend: 'onnx', threads: 1, offThread: true, i420Output: true, borrowModel: true });
      const { runner } = studentInternals(student);
      expect(runner.runLumaDetail).toBeDefined();
      const [h, w] = [10, scale === 4 ? 13 : 14]; // output widths 52 and 28: multiples of 4
      const tail = LumaDetailTail.create()!;
      expect(tail).toBeDefined();
      // Saturated colours and values beyond [0, 1], so that the clamp matters.
      const x = interleave(testImage(h, w, 11).map((v, i) => (i % 13 === 0 ? v * 1.6 - 0.3 : i % 7 === 0 ? 1 : v)), h * w, true);
      const detail = await runner.runLumaDetail!(x, h, w);
      expect(detail.length).toBe(w * scale * h * scale);
      for (const matrix of ['bt709', 'smpte170m', 'bt2020']) {
        const weights = i420ConvWeights(matrix);
        const want = await runner.runI420!(x, h, w, weights); // the whole graph, loaded on demand
        const got = tail.i420(x, detail, w, h, scale, weights);
        expect(got.length).toBe(want.length);
        expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThanOrEqual(1); // float order differs
        expect(got.filter((v, i) => v !== want[i]).length).toBeLessThanOrEqual(Math.ceil(want.length / 1000));
      }
      student.dispose();
      model.dispose();
    }
  });

  it('lumaDetailModel cuts a graph after its luma detail: one output, no upsample, no unused initializer; other models have none', async () => {
    const model = buildStudent({ arch: 'compact', scale: 4, width: 4, depth: 1, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 });
    const onnx = modelToOnnx(model, { layout: 'nchw', target: 'ort-cpu' });
    expect(readOnnxNodes(onnx).some((n) => n.op === 'Identity')).toBe(false); // the last node writes the output itself
    const cut = lumaDetailModel(onnx)!;
    expect(cut.detail.scale).toBe(4);
    expect(readOnnxOutputs(cut.model)).toEqual([cut.detail.tensor]);
    const ops = readOnnxNodes(cut.model).map((n) => n.op);
    expect(ops).not.toContain('Resize');
    expect(ops.filter((o) => o === 'Add').length).toBe(readOnnxNodes(onnx).filter((n) => n.op === 'Add').length - 1);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(cut.model);
    const x = new ort.Tensor('float32', new Float32Array(3 * 5 * 6).fill(0.5), [1, 3, 5, 6]);
    expect((await session.run({ [session.inputNames[0]]: x }))[cut.detail.tensor].dims).toEqual([1, 1, 20, 24]);
    await session.release();
    // With phases: cut before the pixel shuffle, whose input is the one output.
    const early = lumaDetailModel(onnx, { phases: true })!;
    expect(early.phases).toBeDefined();
    expect(readOnnxOutputs(early.model)).toEqual([early.phases]);
    expect(readOnnxNodes(early.model).map((n) => n.op)).not.toContain('DepthToSpace');
    const s2 = await ort.InferenceSession.create(early.model);
    expect((await s2.run({ [s2.inputNames[0]]: x }))[early.phases!].dims).toEqual([1, 16, 5, 6]);
    await s2.release();
    // Nearest residual, or an RGB detail: no luma-detail metadata.
    for (const opts of [{ residualInterpolation: 'nearest' as const, detail: 'luma' as const }, { residualInterpolation: 'bilinear' as const, detail: 'rgb' as const }]) {
      const other = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, seed: 3, ...opts });
      expect(lumaDetailModel(modelToOnnx(other, { layout: 'nchw' }))).toBeUndefined();
      other.dispose();
    }
    model.dispose();
    // Scales and sizes the output stage takes.
    expect(LumaDetailTail.supports(8, 4, 3, 'rgb')).toBe(false);
    expect(LumaDetailTail.supports(7, 4, 2, 'i420')).toBe(false); // 14 columns: not a multiple of 4
    expect(LumaDetailTail.supports(7, 4, 2, 'rgb')).toBe(true);
    expect(LumaDetailTail.supports(7, 4, 4, 'i420')).toBe(true);
  });

  it('a graph ONNX Runtime refuses is a BackendError from the worker too', async () => {
    await expect(createOnnxRunner(new Uint8Array([1, 2, 3, 4]), { offThread: true })).rejects.toThrow(/could not load the model/);
  });
});
