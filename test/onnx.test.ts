import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { useBackend } from '../src/backends/use-backend';
import { BackendError, ModelError, ShapeError } from '../src/errors';
import { exportOnnx, modelToOnnx } from '../src/models/onnx/export';
import { buildStudent, type StudentOptions } from '../src/models/student';
import { tapModel } from '../src/models/taps';
import { buildTeacher } from '../src/models/teacher';
import { buildEmt } from '../src/models/emt';
import { relErr } from './numeric';
import { recordingOrt } from './fake-ort';
import { hasOrt } from './has-ort';



async function parity(model: tfl.LayersModel, shape: [number, number, number, number]): Promise<number> {
  const x = tf.randomUniform(shape, 0, 1, 'float32', 42) as tf.Tensor4D;
  const ref = model.predict(x) as tf.Tensor;
  const runner = await createOnnxRunner(model, { threads: 1 });
  const out = await runner.run((await x.data()) as Float32Array, shape);
  expect(out.shape).toEqual(ref.shape);
  const e = relErr(out.data, (await ref.data()) as Float32Array);
  await runner.dispose();
  tf.dispose([x, ref]);
  return e;
}

let tmp: string;
beforeAll(async () => {
  await useBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-onnx-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasOrt)('ONNX export: parity with TF.js through onnxruntime-node (<= 1e-5 relative)', () => {
  const cases: [string, StudentOptions][] = [];
  for (const scale of [1, 2, 3, 4] as const) {
    cases.push([`espcn x${scale}`, { arch: 'espcn', scale, seed: scale }]);
    cases.push([`fsrcnn x${scale}`, { arch: 'fsrcnn', scale, seed: scale }]);
    cases.push([`compact x${scale}`, { arch: 'compact', scale, seed: scale }]);
  }
  cases.push(['espcn relu + bilinear residual', { arch: 'espcn', scale: 3, activation: 'relu', residual: true, residualInterpolation: 'bilinear', seed: 9 }]);
  cases.push(['espcn prelu', { arch: 'espcn', scale: 2, activation: 'prelu', seed: 9 }]);
  cases.push(['compact x1, pixel unshuffle 4 (odd size: pad + crop)', { arch: 'compact', scale: 1, width: 8, depth: 2, unshuffle: 4, seed: 9 }]);
  cases.push(['compact x2, pixel unshuffle 2', { arch: 'compact', scale: 2, width: 8, depth: 2, unshuffle: 2, seed: 9 }]);
  cases.push(['compact bilinear residual', { arch: 'compact', scale: 4, width: 8, depth: 2, residualInterpolation: 'bilinear', seed: 9 }]);
  cases.push(['compact luma detail, bilinear residual', { arch: 'compact', scale: 4, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', seed: 9 }]);
  cases.push(['compact luma detail, nearest residual', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', seed: 9 }]);
  cases.push(['compact, one PReLU slope per layer', { arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', preluSlopes: 'layer', seed: 9 }]);

  for (const [name, opts] of cases) {
    it(name, async () => {
      const m = buildStudent(opts);
      expect(await parity(m, [2, 11, 7, 3])).toBeLessThanOrEqual(1e-5);
      m.dispose();
    });
  }

  it('exports global gates (ReduceMean, 1×1 conv, Sigmoid, Mul) with trained-like weights', async () => {
    const m = buildStudent({ arch: 'compact', scale: 1, width: 8, depth: 3, unshuffle: 4, detail: 'luma', globalGates: true, seed: 9 });
    for (const l of m.layers.filter((layer) => layer.getClassName() === 'GlobalGate')) {
      l.setWeights(l.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', 20 + i)));
    }
    expect(await parity(m, [2, 11, 7, 3])).toBeLessThanOrEqual(1e-5);
    m.dispose();
  });

  it('adds the nearest global residual before the pixel shuffle (no high-resolution Resize) unless fuseResidual is false', async () => {
    const m = buildStudent({ arch: 'compact', scale: 4, width: 8, depth: 2, seed: 5 });
    const has = (bytes: Uint8Array, op: string) => Buffer.from(bytes).includes(op);
    const fused = modelToOnnx(m);
    const layered = modelToOnnx(m, { fuseResidual: false });
    expect([has(fused, 'Resize'), has(fused, 'Tile')]).toEqual([false, true]);
    expect([has(layered, 'Resize'), has(layered, 'Tile')]).toEqual([true, false]);
    const x = tf.randomUniform([1, 9, 6, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const ref = (await (m.predict(x) as tf.Tensor).data()) as Float32Array;
    for (const bytes of [fused, layered]) {
      const runner = await createOnnxRunner(bytes, { threads: 1 });
      const out = await runner.run((await x.data()) as Float32Array, [1, 9, 6, 3]);
      expect(relErr(out.data, ref)).toBeLessThanOrEqual(1e-5);
      await runner.dispose();
    }
    // A bilinear residual does not commute with the shuffle: it keeps its Resize.
    const bilinear = buildStudent({ arch: 'compact', scale: 4, width: 8, depth: 2, residualInterpolation: 'bilinear', seed: 5 });
    expect(has(modelToOnnx(bilinear), 'Resize')).toBe(true);
    tf.dispose(x);
    m.dispose();
    bilinear.dispose();
  });

  it('writes a one-slope PReLU as LeakyRelu (also for ort-cpu, which fuses it into the conv), a per-channel one as PRelu', async () => {
    const { readOnnxNodes } = await import('../src/models/onnx/proto');
    const ops = (opts: StudentOptions, target: 'any' | 'ort-cpu') => {
      const m = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, seed: 4, ...opts });
      const slopes = m.layers.filter((l) => l.getClassName() === 'PReLU').map((l) => l.getWeights()[0].shape.join('x'));
      const out = readOnnxNodes(modelToOnnx(m, { target })).map((n) => n.op);
      m.dispose();
      return { slopes, out };
    };
    const layer = ops({ preluSlopes: 'layer' }, 'ort-cpu');
    expect(layer.slopes).toEqual(['1x1x1', '1x1x1', '1x1x1']);
    expect(layer.out.filter((op) => op === 'LeakyRelu').length).toBe(3);
    expect(layer.out.filter((op) => op === 'Conv').length).toBe(4); // no depthwise 1×1 convs
    expect(layer.out).not.toContain('PRelu');
    const channel = ops({}, 'any');
    expect(channel.slopes).toEqual(['1x1x8', '1x1x8', '1x1x8']);
    expect(channel.out.filter((op) => op === 'PRelu').length).toBe(3);
    expect(channel.out).not.toContain('LeakyRelu');
  });

  it('reads the input through one strided conv instead of pixel unshuffle + conv unless fuseUnshuffle is false', async () => {
    const has = (bytes: Uint8Array, op: string) => Buffer.from(bytes).includes(op);
    // A re-parameterizable net too: its first conv exports as the merged kernel, fused the same way.
    for (const opts of [{ scale: 1, unshuffle: 4 }, { scale: 2, unshuffle: 2, reparam: true }] as const) {
      const m = buildStudent({ arch: 'compact', width: 8, depth: 2, detail: 'luma', seed: 6, ...opts });
      for (const w of m.trainableWeights) (w as unknown as { write(v: tf.Tensor): void }).write(tf.randomNormal(w.shape as number[], 0, 0.2, 'float32', 8));
      const fused = modelToOnnx(m, { layout: 'nchw' });
      const layered = modelToOnnx(m, { layout: 'nchw', fuseUnshuffle: false });
      expect([has(fused, 'SpaceToDepth'), has(layered, 'SpaceToDepth')]).toEqual([false, true]);
      const x = tf.randomUniform([1, 13, 10, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const [ref, planar] = tf.tidy(() => [tf.transpose(m.predict(x) as tf.Tensor, [0, 3, 1, 2]), tf.transpose(x, [0, 3, 1, 2])].map((t) => t.dataSync() as Float32Array));
      for (const bytes of [fused, layered]) {
        const runner = await createOnnxRunner(bytes, { threads: 1 });
        const out = await runner.run(planar, [1, 3, 13, 10]);
        expect(relErr(out.data, ref)).toBeLessThanOrEqual(1e-5);
        await runner.dispose();
      }
      tf.dispose(x);
      m.dispose();
    }
  });

  for (const scale of [1, 2, 3, 4] as const) {
    it(`tiny teacher x${scale} (odd input size: dynamic pad + crop)`, async () => {
      const m = buildTeacher({ scale, depths: [1, 2, 1], widthMultiplier: 1 / 16, seed: scale });
      // Give every weight (incl. the near-zero residual-branch convs) a visible effect.
      for (const w of m.trainableWeights) (w as unknown as { write(v: tf.Tensor): void }).write(tf.randomNormal(w.shape as number[], 0, 0.2, 'float32', 7));
      expect(await parity(m, [1, 13, 10, 3])).toBeLessThanOrEqual(1e-5);
      m.dispose();
    });
  }

  it('teacher with batch norm (inference statistics) and nearest residual', async () => {
    const m = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, norm: 'batch', residualInterpolation: 'nearest', seed: 1 });
    for (const w of m.weights) {
      const v = tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', 3);
      (w as unknown as { write(v: tf.Tensor): void }).write(v);
    }
    expect(await parity(m, [1, 9, 12, 3])).toBeLessThanOrEqual(1e-5);
    m.dispose();
  });

  it('tapped model exports every output; nchw layout; file output', async () => {
    const m = buildStudent({ arch: 'espcn', scale: 2, widths: [8, 4], seed: 1 });
    const t = tapModel(m);
    const runner = await createOnnxRunner(t);
    expect(runner.outputNames).toEqual(['output', 'feat1', 'feat2']);
    const x = tf.randomUniform([1, 5, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const all = await runner.runAll((await x.data()) as Float32Array, [1, 5, 6, 3]);
    const [, f1] = t.predict(x) as tf.Tensor[];
    expect(all.feat1.shape).toEqual([1, 5, 6, 8]);
    expect(relErr(all.feat1.data, (await f1.data()) as Float32Array)).toBeLessThan(1e-5);
    const y = await runner.runTensor(x);
    expect(y.shape).toEqual([1, 10, 12, 3]);
    await runner.dispose();
    await expect(runner.run(new Float32Array(90), [1, 5, 6, 3])).rejects.toThrow(BackendError);

    const file = path.join(tmp, 'espcn.onnx');
    const bytes = await exportOnnx(m, file, { layout: 'nchw', opset: 13 });
    expect(new Uint8Array(await fs.readFile(file))).toEqual(bytes);
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(file);
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    const out = await s.run({ input: new ort.Tensor('float32', (await nchw.data()) as Float32Array, [1, 3, 5, 6]) });
    expect(out.output.dims).toEqual([1, 3, 10, 12]);
    const ref = tf.transpose(m.predict(x) as tf.Tensor, [0, 3, 1, 2]);
    expect(relErr(out.output.data as Float32Array, (await ref.data()) as Float32Array)).toBeLessThan(1e-5);
    await s.release();
    tf.dispose([x, y, nchw, ref, f1]);
    m.dispose();
  });

  it('a tapped tiny EMT exports its prediction and every tap; runTensors matches TF.js on each output', async () => {
    const m = buildEmt({ scale: 2, dim: 10, blocks: 3, layers: 1, attentionLayers: 1, heads: 1, windows: [[4, 2], [2, 4]], shifts: [[2, 1], [1, 2]], seed: 2 });
    const t = tapModel(m);
    const runner = await createOnnxRunner(t, { threads: 1 });
    expect(runner.outputNames).toEqual(['output', 'body.0', 'body.1', 'body.2']);
    // A smooth batch of two (attention amplifies float rounding on noise).
    const x = tf.tidy(() => tf.concat([tf.reshape(tf.mul(tf.add(tf.sin(tf.mul(tf.range(0, 9 * 11 * 3), 0.05)), 1), 0.5), [1, 9, 11, 3]), tf.fill([1, 9, 11, 3], 0.3)]) as tf.Tensor4D);
    const n = tf.memory().numTensors;
    const got = await runner.runTensors(x);
    const ref = t.predict(x) as tf.Tensor[];
    expect(got.map((g) => g.shape)).toEqual([[2, 18, 22, 3], [2, 9, 11, 10], [2, 9, 11, 10], [2, 9, 11, 10]]);
    expect(ref.map((r) => r.shape)).toEqual(got.map((g) => g.shape));
    for (let i = 0; i < ref.length; i++) expect(relErr((await got[i].data()) as Float32Array, (await ref[i].data()) as Float32Array), runner.outputNames[i]).toBeLessThan(1e-4);
    tf.dispose([...got, ...ref]);
    expect(tf.memory().numTensors).toBe(n);
    await runner.dispose();
    x.dispose();
    m.dispose();
  });

  it('a tap on a student pixel shuffle is exported as the shuffle (not fused into the residual add)', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, seed: 3 });
    const t = tapModel(m, ['pixel_shuffle']);
    const runner = await createOnnxRunner(t, { threads: 1 });
    const x = tf.randomUniform([1, 5, 6, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [gotOut, gotTap] = await runner.runTensors(x);
    const [refOut, refTap] = t.predict(x) as tf.Tensor[];
    expect(gotTap.shape).toEqual([1, 10, 12, 3]);
    expect(relErr((await gotTap.data()) as Float32Array, (await refTap.data()) as Float32Array)).toBeLessThan(1e-5);
    expect(relErr((await gotOut.data()) as Float32Array, (await refOut.data()) as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([x, gotOut, gotTap, refOut, refTap]);
    await runner.dispose();
    m.dispose();
  });

  it('export and runTensor leak no tensors', async () => {
    const m = buildStudent({ arch: 'fsrcnn', scale: 2, width: 8, shrink: 4, depth: 1, seed: 1 });
    const runner = await createOnnxRunner(m);
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      modelToOnnx(m);
      (await runner.runTensor(x)).dispose();
    }
    expect(tf.memory().numTensors).toBe(n);
    await runner.dispose();
    x.dispose();
    m.dispose();
  });

  it('rejects bad shapes and unsupported layers', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1 });
    const runner = await createOnnxRunner(m);
    await expect(runner.run(new Float32Array(10), [1, 2, 2, 3])).rejects.toThrow(ShapeError);
    await expect(runner.run(new Float32Array(12), [2, 2, 3])).rejects.toThrow(ShapeError);
    // What only the engine can tell (4 channels for a 3-channel graph) comes back typed, naming the input.
    const engineErr = await runner.run(new Float32Array(16), [1, 2, 2, 4]).catch((e) => e);
    expect(engineErr).toBeInstanceOf(BackendError);
    expect(engineErr.message).toMatch(/ONNX Runtime could not run the model on an input of \[1,2,2,4\]/);
    await runner.dispose();
    const inp = tfl.input({ shape: [null, null, 3] });
    const bad = tfl.model({ inputs: inp, outputs: tfl.layers.maxPooling2d({ poolSize: 2 }).apply(inp) as tfl.SymbolicTensor });
    expect(() => modelToOnnx(bad)).toThrow(ModelError);
    expect(() => modelToOnnx(m, { opset: 9 })).toThrow(/opset/);
    m.dispose();
  });
});

describe('ONNX runner without onnxruntime', () => {
  it('raises BackendError with an install hint when the runtime module is unusable', async () => {
    const err = await createOnnxRunner(new Uint8Array(4), { ort: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
  });
});

describe('ONNX runner session options', () => {
  it('uses every available core in Node unless threads is given', async () => {
    const { ort, created } = recordingOrt();
    await (await createOnnxRunner(new Uint8Array(4), { ort })).dispose();
    await (await createOnnxRunner(new Uint8Array(4), { ort, threads: 1 })).dispose();
    expect(created[0].intraOpNumThreads).toBe(os.availableParallelism());
    expect(created[1].intraOpNumThreads).toBe(1);
    expect(created[0].graphOptimizationLevel).toBe('all');
    // Workers spin by default (the idle-machine choice; test/student-onnx.test.ts covers spinning: false).
    expect(created[0].extra).toEqual({ session: { intra_op: { allow_spinning: '1' } } });
  });
});
