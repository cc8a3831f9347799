import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { useBackend } from '../src/backends/use-backend';
import { calibrationHistograms, rangesFrom, type CalibrationInput } from '../src/models/onnx/calibrate-int8';
import { modelToOnnxGraph } from '../src/models/onnx/export';
import { encodeOnnxModel } from '../src/models/onnx/onnx-model';
import { readOnnxNodes } from '../src/models/onnx/proto';
import { activationParams, pickRange, quantizeGraphInt8, quantizeWeights, type QuantizeInt8Options } from '../src/models/onnx/quantize-int8';
import { buildStudent, type StudentOptions } from '../src/models/student';
import { Student } from '../src/infer/student';
import { findStudentOnnx, STUDENT_ONNX_INT8_FILE } from '../src/infer/student-onnx';
import { hasOrt } from './has-ort';


let tmp: string;
beforeAll(async () => {
  await useBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-int8-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** An 8-bit-valued random NCHW image. */
function image(h: number, w: number, seed: number): CalibrationInput {
  let s = seed >>> 0;
  const data = new Float32Array(3 * h * w).map(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 24) / 255;
  });
  return { data, dims: [1, 3, h, w] };
}

/** A tiny student with random weights (PReLU slopes in [0, 1.5]: both forms of the ort-cpu PReLU rewrite). */
function tinyStudent(opts: StudentOptions) {
  const m = buildStudent(opts);
  let seed = 11;
  for (const w of m.trainableWeights) {
    const shape = w.shape as number[];
    // Kernels scaled by fan-in so that activations keep their size through the layers; biases small.
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : 25;
    const v = w.name.includes('prelu') ? tf.randomUniform(shape, 0, 1.5, 'float32', seed++) : tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), 'float32', seed++);
    (w as unknown as { write(v: tf.Tensor): void }).write(v);
  }
  return m;
}

const rms = (a: Float32Array, b?: Float32Array) => Math.sqrt(a.reduce((acc, v, i) => acc + (v - (b ? b[i] : 0)) ** 2, 0) / a.length);

describe('int8 range and weight math', () => {
  it('activation scale and zero point: [0, 1] is exact 8-bit levels; ranges always include 0', () => {
    expect(activationParams({ min: 0, max: 1 }, 'uint8')).toEqual({ scale: Math.fround(1 / 255), zeroPoint: 0 });
    expect(activationParams({ min: 0, max: 1 }, 'int8')).toEqual({ scale: Math.fround(1 / 255), zeroPoint: -128 });
    const p = activationParams({ min: 0.5, max: 2 }, 'uint8'); // widened to [0, 2]
    expect(p.zeroPoint).toBe(0);
    expect(p.scale).toBeCloseTo(2 / 255, 7);
    const n = activationParams({ min: -1, max: 3 }, 'uint8');
    expect(n.zeroPoint).toBe(64); // round(1 / (4 / 255)) = round(63.75)
  });

  it('weights: per output channel, symmetric, max |w| maps to 127', () => {
    const w = Float32Array.from([0.5, -0.25, 0.1, 0, -2, 1, 0.02, 0.5]);
    const { q, scales } = quantizeWeights(w, 2);
    expect(Array.from(scales)).toEqual([Math.fround(0.5 / 127), Math.fround(2 / 127)]);
    expect(Array.from(q)).toEqual([127, -64, 25, 0, -127, 64, 1, 32]);
  });

  it('pickRange: percentile and mse clip a rare outlier that minmax keeps', () => {
    const counts = new Float64Array(1000);
    for (let i = 0; i < 100; i++) counts[i] = 1e6; // values in [0, 1)
    counts[999] = 1; // one value near 10: minmax spends 90% of the levels on it
    const h = { min: 0, max: 10, counts };
    expect(pickRange(h, 'minmax')).toEqual({ min: 0, max: 10 });
    expect(pickRange(h, 'percentile').max).toBeLessThan(1.1);
    const mse = pickRange(h, 'mse').max;
    expect(mse).toBeGreaterThan(0.9);
    expect(mse).toBeLessThan(2);
  });
});

describe.skipIf(!hasOrt)('quantizeGraphInt8 on a tiny random student (ONNX Runtime)', () => {
  const cases: [string, StudentOptions, QuantizeInt8Options][] = [
    ['x2 luma, bilinear residual (the shipped x4 / x2 form)', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 }, {}],
    ['x1, pixel unshuffle 4 (pad, shuffle, nearest residual, crop)', { arch: 'compact', scale: 1, width: 8, depth: 2, unshuffle: 4, detail: 'luma', seed: 4 }, {}],
    ['x2, input and output convs kept in float', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 }, { floatInputConv: true, floatOutputConv: true }],
    ['x2, first layer (conv and PReLU) kept in float', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 }, { floatFirstLayer: true }],
    ['x2, one PReLU slope per layer (LeakyRelu)', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', preluSlopes: 'layer', seed: 3 }, {}],
    ['x2, one PReLU slope per layer, first layer kept in float', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', preluSlopes: 'layer', seed: 3 }, { floatFirstLayer: true }],
  ];
  for (const [name, opts, qopts] of cases) {
    it(name, async () => {
      const m = tinyStudent(opts);
      const { graph, encode } = modelToOnnxGraph(m, { layout: 'nchw', target: 'ort-cpu' });
      m.dispose();
      const convs = graph.nodes.filter((n) => n.op === 'Conv').length;
      const hist = await calibrationHistograms(graph, [0, 1, 2, 3].map((i) => image(24, 24, i)), { ...qopts, threads: 1 });
      const q = quantizeGraphInt8(graph, rangesFrom(hist, 'mse'), qopts);

      // Weights really are int8 (per channel, zero point 0), biases int32; no float conv weight is left in the body.
      const init = new Map(q.initializers.map((t) => [t.name, t]));
      const producer = new Map(q.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
      const qconvs = q.nodes.filter((n) => n.op === 'Conv');
      // The first layer in float: its conv and its PReLU's depthwise convs (two where a slope is over 1; none for a
      // one-slope PReLU, a LeakyRelu).
      const leaky = opts.preluSlopes === 'layer';
      const firstLayer = graph.nodes.filter((n) => n.op === 'Conv' && n.name.startsWith('body0')).length;
      expect(firstLayer).toBeGreaterThanOrEqual(leaky ? 1 : 2);
      expect(graph.nodes.filter((n) => n.op === 'LeakyRelu').length).toBe(leaky ? opts.depth! + 1 : 0);
      const floatConvs = (qopts.floatInputConv ? 1 : 0) + (qopts.floatOutputConv ? 1 : 0) + (qopts.floatFirstLayer ? firstLayer : 0);
      const intConvs = qconvs.filter((c) => producer.get(c.inputs[1])?.op === 'DequantizeLinear');
      expect(intConvs.length).toBe(convs - floatConvs);
      for (const c of intConvs) {
        const dq = producer.get(c.inputs[1])!;
        expect(init.get(dq.inputs[0])!.data).toBeInstanceOf(Int8Array);
        expect(Array.from(init.get(dq.inputs[2])!.data as Int8Array).every((z) => z === 0)).toBe(true);
        expect(dq.attrs.axis).toEqual({ kind: 'int', value: 0 });
        if (c.inputs[2]) expect(init.get(producer.get(c.inputs[2])!.inputs[0])!.data).toBeInstanceOf(Int32Array);
        expect(producer.get(c.inputs[0])?.op).toBe('DequantizeLinear');
      }
      expect(graph.nodes.length).toBeLessThan(q.nodes.length); // the float graph is left as it was

      // ONNX Runtime loads it, fuses the body into integer kernels, and the output stays close to the float graph's.
      const bytes = encodeOnnxModel(q, encode);
      const optimized = path.join(tmp, `${name.replace(/\W+/g, '-')}.onnx`);
      const ort = await import('onnxruntime-node');
      const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: optimized, logSeverityLevel: 3 });
      await s.release();
      const ops = readOnnxNodes(new Uint8Array(await fs.readFile(optimized))).map((n) => n.op);
      expect(ops.filter((op) => op === 'QLinearConv').length).toBe(convs - floatConvs);
      const intPrelus = opts.depth! + 1 - (qopts.floatFirstLayer ? 1 : 0);
      expect(ops.filter((op) => op === 'QLinearAdd').length).toBe(leaky ? 0 : intPrelus); // one per int8 PReLU
      expect(ops.filter((op) => op === 'QLinearLeakyRelu').length).toBe(leaky ? intPrelus : 0);
      if (!qopts.floatFirstLayer) expect(ops).not.toContain('Relu');

      const x = image(20, 16, 99); // not a calibration image
      const run = async (b: Uint8Array) => {
        const r = await createOnnxRunner(b, { threads: 1 });
        const out = (await r.run(x.data, x.dims)).data.slice();
        await r.dispose();
        return out;
      };
      const ref = await run(encodeOnnxModel(graph, encode));
      const out = await run(bytes);
      expect(out.length).toBe(ref.length);
      // The part of the output the conv body makes (output minus the residual alone): int8 must track it closely.
      const shuffle = graph.nodes.find((n) => n.op === 'DepthToSpace')!;
      const detail = rms(ref, await runWithoutDetail(graph, encode, shuffle.outputs[0], run));
      expect(detail).toBeGreaterThan(0.05); // the random body does matter
      expect(rms(out, ref)).toBeLessThan(0.05 * detail);
    });
  }
});

/** The float graph's output with the pixel-shuffled detail replaced by zeros (the residual alone). */
async function runWithoutDetail(
  graph: ReturnType<typeof modelToOnnxGraph>['graph'],
  encode: ReturnType<typeof modelToOnnxGraph>['encode'],
  shuffled: string,
  run: (b: Uint8Array) => Promise<Float32Array>,
): Promise<Float32Array> {
  const { OnnxGraph } = await import('../src/models/onnx/onnx-model');
  const g = new OnnxGraph();
  g.inputs.push(...graph.inputs);
  g.outputs.push(...graph.outputs);
  g.initializers.push(...graph.initializers);
  const zero = g.floatConst('zero', [], [0]);
  for (const n of graph.nodes) {
    g.nodes.push({ ...n, inputs: n.inputs.map((t) => (t === shuffled ? `${shuffled}_zeroed` : t)) });
    if (n.outputs[0] === shuffled) g.nodes.push({ op: 'Mul', inputs: [shuffled, zero], outputs: [`${shuffled}_zeroed`], name: 'zero_detail', attrs: {} });
  }
  return run(encodeOnnxModel(g, encode));
}

describe.skipIf(!hasOrt)("int8 graphs beside a model: precision 'int8'", () => {
  const big = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const mean = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => m + Math.abs(v - b[i]), 0) / a.length;
  /** A smooth 8-bit image with edges (int8 ranges are calibrated on photos: noise would clip them). */
  const frame = (w: number, h: number) =>
    tf.tensor3d(Float32Array.from({ length: h * w * 3 }, (_, i) => {
      const [y, x, c] = [Math.floor(i / (3 * w)), Math.floor(i / 3) % w, i % 3];
      return Math.round(255 * (0.5 + 0.3 * Math.sin(x / 3 + c) * Math.cos(y / 5) + (x > w / 2 ? 0.15 : -0.15))) / 255;
    }), [h, w, 3]);

  it.each(['x2', 'x2-fast', 'x4-plus'])('the shipped %s has a model.int8.onnx made from its weights; it runs close to the float graph', async (name) => {
    const dir = path.join('models', name);
    const file = await findStudentOnnx(dir, STUDENT_ONNX_INT8_FILE);
    expect(file?.info.int8?.folders).toEqual(['T91/HR', 'BSDS200/HR']);
    expect(new Set(readOnnxNodes(file!.bytes).map((n) => n.op))).toContain('QuantizeLinear');
    // The float file is never taken for the int8 one, nor the other way round.
    expect((await findStudentOnnx(dir))?.info.int8).toBeUndefined();
    const S = Student;
    using f = await S.load(name, { backend: 'onnx', threads: 1 });
    using q = await S.load(name, { precision: 'int8', threads: 1 });
    expect(q.info).toMatchObject({ backend: 'onnx', precision: 'int8', scale: f.info.scale, params: f.info.params });
    expect(f.info.precision).toBe('float32');
    const x = frame(40, 32);
    const [a, b] = [await f.sharpen(x), await q.sharpen(x)];
    const [da, db] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
    tf.dispose([x, a, b]);
    expect(big(da, db)).toBeGreaterThan(0); // it is another graph
    // Reports say which graph ran.
    const { benchmarkFps } = await import('../src/bench/fps');
    expect((await benchmarkFps({ model: q, width: 2 * 16, height: 2 * 12, warmup: 0, runs: 1 })).precision).toBe('int8');
    expect((await benchmarkFps({ model: f, width: 2 * 16, height: 2 * 12, warmup: 0, runs: 1 })).precision).toBeUndefined();
    expect(mean(da, db)).toBeLessThan(0.005);
  });

  it('sharpenVideo takes the precision for a model it loads, and refuses one a given Student does not run', async () => {
    const { sharpenVideo } = await import('../src/video/sharpen-video');
    using f = await Student.load('x2', { backend: 'onnx', threads: 1 });
    await expect(sharpenVideo(path.join(tmp, 'in.mp4'), path.join(tmp, 'out.mp4'), { model: f, precision: 'int8' })).rejects.toThrow(/runs its float32 graph, not int8/);
  });

  it('refuses what has no int8 graph, other engines and unknown precisions, with typed errors', async () => {
    const S = Student;
    const { ConfigError, ModelError } = await import('../src/errors');
    await expect(S.load('x4', { precision: 'int8' })).rejects.toThrow(ModelError);
    await expect(S.load('x4', { precision: 'int8' })).rejects.toThrow(/no int8 graph/);
    await expect(S.load('x2', { precision: 'int8', backend: 'wasm' })).rejects.toThrow(ConfigError);
    await expect(S.load('x2', { precision: 'int8', executionProviders: ['webgpu'] })).rejects.toThrow(ConfigError);
    await expect(S.load('bicubic', { precision: 'int8' })).rejects.toThrow(ConfigError);
    await expect(S.load('x2', { precision: 'fp16' as 'int8' })).rejects.toThrow(/precision must be/);
    const m = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, seed: 1 });
    await expect(S.fromModel(m, { precision: 'int8' })).rejects.toThrow(/save the model, build it with writeStudentOnnxInt8/);
    m.dispose();
  });

  it('writeStudentOnnxInt8 builds one for a saved model; it goes stale with the weights', async () => {
    const { writeImage } = await import('../src/io/node-image');
    const { saveModel } = await import('../src/io/model-io');
    const { writeStudentOnnxInt8 } = await import('../src/infer/student-onnx-build');
    const { ConfigError, ModelError } = await import('../src/errors');
    const hr = path.join(tmp, 'calib', 'HR');
    await fs.mkdir(hr, { recursive: true });
    for (let i = 0; i < 3; i++) {
      const { data } = image(48, 40, 50 + i);
      const rgb = new Uint8Array(48 * 40 * 3).map((_, k) => Math.round(data[(k % 3) * 48 * 40 + Math.floor(k / 3)] * 255));
      await writeImage(path.join(hr, `${i}.png`), { data: rgb, width: 40, height: 48, channels: 3 });
    }
    const model = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', seed: 4 });
    const dir = path.join(tmp, 'mine');
    await saveModel(model, dir);
    model.dispose();
    const S = Student;
    await expect(S.load(dir, { precision: 'int8' })).rejects.toThrow(ModelError);
    await expect(writeStudentOnnxInt8(dir, { calibration: [hr], method: 'nope' as 'mse' })).rejects.toThrow(ConfigError);
    const file = await writeStudentOnnxInt8(dir, { calibration: [hr], method: 'mse', threads: 1 });
    expect(path.basename(file)).toBe(STUDENT_ONNX_INT8_FILE);
    const int8Bytes = new Uint8Array(await fs.readFile(file));
    {
      using q = await S.load(dir, { precision: 'int8', threads: 1 });
      using f = await S.load(dir, { backend: 'onnx', threads: 1 });
      expect(q.info.precision).toBe('int8');
      expect((await findStudentOnnx(dir, STUDENT_ONNX_INT8_FILE))?.info.int8).toEqual({ method: 'mse', images: 3, folders: ['calib/HR'] });
      const { evaluateStudent } = await import('../src/infer/evaluate');
      expect((await evaluateStudent(q, hr, { scale: 2 })).precision).toBe('int8');
      expect((await evaluateStudent(f, hr, { scale: 2 })).precision).toBeUndefined();
      const x = frame(24, 20);
      const [a, b] = [await f.sharpen(x), await q.sharpen(x)];
      expect(mean(a.dataSync() as Float32Array, b.dataSync() as Float32Array)).toBeLessThan(0.01);
      tf.dispose([x, a, b]);
    }
    // The first layer in float: recorded in the file, one conv fewer on integers, still close to float.
    await writeStudentOnnxInt8(dir, { calibration: [hr], method: 'mse', threads: 1, floatFirstLayer: true });
    {
      const file2 = (await findStudentOnnx(dir, STUDENT_ONNX_INT8_FILE))!;
      expect(file2.info.int8).toEqual({ method: 'mse', images: 3, folders: ['calib/HR'], floatFirstLayer: true });
      // The image, the first conv's output and its PReLU's negative branch are not quantized; the PReLU's output is.
      const quantizes = (b: Uint8Array) => readOnnxNodes(b).filter((n) => n.op === 'QuantizeLinear').length;
      expect(quantizes(file2.bytes)).toBe(quantizes(int8Bytes) - 3);
      using q = await S.load(dir, { precision: 'int8', threads: 1 });
      using f = await S.load(dir, { backend: 'onnx', threads: 1 });
      const x = frame(24, 20);
      const [a, b] = [await f.sharpen(x), await q.sharpen(x)];
      expect(mean(a.dataSync() as Float32Array, b.dataSync() as Float32Array)).toBeLessThan(0.01);
      tf.dispose([x, a, b]);
    }
    // New weights: the int8 graph no longer matches the model and is not run.
    const other = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', seed: 5 });
    await saveModel(other, dir);
    other.dispose();
    await expect(S.load(dir, { precision: 'int8' })).rejects.toThrow(ModelError);
  });
});
