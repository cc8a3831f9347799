import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { ConfigError } from '../src/errors';
import { loadModel } from '../src/io/model-io';
import { syntheticDataset } from '../src/data/datasets';
import { describeModel } from '../src/models/describe';
import { convWithBias } from '../src/models/layers/conv-with-bias';
import { mergeRepKernel, mergeRepKernelOps, RepConv2D, repMergeSettings, reparameterize, type RepBranches } from '../src/models/layers/rep-conv';
import { getModelInfo } from '../src/models/metadata';
import { modelToOnnx } from '../src/models/onnx/export';
import { buildStudent } from '../src/models/student';
import { train } from '../src/train/train';

let tmp: string;
beforeAll(async () => {
  await useBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-rep-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Gives every weight a visible value (the extra branches start near zero). */
function randomize(model: tfl.LayersModel, seed: number): void {
  model.weights.forEach((w, i) => (w as unknown as { write(v: tf.Tensor): void }).write(tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', seed + i)));
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('RepConv2D', () => {
  it.each([2, 8])('equals the sum of its branches, computed as separate convolutions (expand %i: that branch times 2 / expand)', (expandBy) => {
    const inp = tfl.input({ shape: [null, null, 3] });
    const layer = new RepConv2D({ filters: 4, seed: 1, expand: expandBy });
    const m = tfl.model({ inputs: inp, outputs: layer.apply(inp) as tfl.SymbolicTensor });
    randomize(m, 1);
    const [k3, bias, k1, expand, squeeze, ...edges] = layer.getWeights();
    const x = tf.randomUniform([1, 7, 5, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const filters: Record<string, number[]> = { sobelX: [1, 0, -1, 2, 0, -2, 1, 0, -1], sobelY: [1, 2, 1, 0, 0, 0, -1, -2, -1], laplacian: [0, 1, 0, 1, -4, 1, 0, 1, 0] };
    const expected = tf.tidy(() => {
      const conv1 = (t: tf.Tensor4D, w: tf.Tensor) => tf.conv2d(t, tf.reshape(w, [1, 1, w.shape[0]!, w.shape[1]!]) as tf.Tensor4D, 1, 'same');
      let y = tf.add(tf.conv2d(x, k3 as tf.Tensor4D, 1, 'same'), bias);
      y = tf.add(y, conv1(x, k1));
      y = tf.add(y, tf.mul(tf.conv2d(conv1(x, expand), squeeze as tf.Tensor4D, 1, 'same'), 2 / expandBy));
      Object.values(filters).forEach((f, j) => {
        const [w, scale] = [edges[j], edges[3 + j]]; // the three 1×1 weights, then the three scales
        // 1×1 conv, then a depthwise fixed edge filter times a per-channel scale (zero padding).
        const z = conv1(x, w);
        const dw = tf.mul(tf.tensor4d(f, [3, 3, 1, 1]), tf.reshape(scale, [1, 1, 4, 1]));
        y = tf.add(y, tf.depthwiseConv2d(z, dw as tf.Tensor4D, 1, 'same'));
      });
      return y;
    });
    const got = m.predict(x) as tf.Tensor;
    expect(got.shape).toEqual([1, 7, 5, 4]);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    tf.dispose([x, expected, got]);
    m.dispose();
  });

  it('passes gradients to every branch', () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, reparam: true, seed: 3 });
    const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 4);
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar, m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    const names = Object.keys(grads);
    expect(names.some((n) => n.includes('squeeze'))).toBe(true);
    for (const [name, g] of Object.entries(grads)) {
      if (name.includes('prelu')) continue;
      expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]), name).toBeGreaterThan(0);
    }
    tf.dispose([x, ...Object.values(grads)]);
    m.dispose();
  });
});

describe('mergeRepKernel (the merged kernel as one custom op on cpu and wasm)', () => {
  const branches = (cin: number, cout: number, seed: number): RepBranches => {
    const r = (shape: number[], k: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed + k);
    return {
      k3: r([3, 3, cin, cout], 0) as tf.Tensor4D,
      k1: r([cin, cout], 1) as tf.Tensor2D,
      expand: r([cin, 2 * cout], 2) as tf.Tensor2D,
      squeeze: r([3, 3, 2 * cout, cout], 3) as tf.Tensor4D,
      edgeW: [4, 5, 6].map((k) => r([cin, cout], k) as tf.Tensor2D),
      edgeScale: [7, 8, 9].map((k) => r([cout], k) as tf.Tensor1D),
    };
  };
  const list = (b: RepBranches): tf.Tensor[] => [b.k3, b.k1, b.expand, b.squeeze, ...b.edgeW, ...b.edgeScale];
  const fromList = (t: tf.Tensor[]): RepBranches => ({
    k3: t[0] as tf.Tensor4D,
    k1: t[1] as tf.Tensor2D,
    expand: t[2] as tf.Tensor2D,
    squeeze: t[3] as tf.Tensor4D,
    edgeW: t.slice(4, 7) as tf.Tensor2D[],
    edgeScale: t.slice(7, 10) as tf.Tensor1D[],
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals the tensor-op formula and its gradients on ${backend} (3→16, 16→16, 16→1)`, async () => {
      await useBackend(backend);
      try {
        for (const [cin, cout] of [[3, 16], [16, 16], [16, 1]]) {
          const b = branches(cin, cout, 10 * cin + cout);
          const dy = tf.randomNormal([3, 3, cin, cout], 0, 1, 'float32', 5);
          const before = tf.memory().numTensors;
          const loss = (merge: (x: RepBranches) => tf.Tensor4D) => (...t: tf.Tensor[]) => tf.sum(tf.mul(merge(fromList(t)), dy));
          const [ours, ref] = [mergeRepKernel(b), mergeRepKernelOps(b)];
          const scale = tf.tidy(() => tf.max(tf.abs(ref)).dataSync()[0]);
          expect(ours.shape).toEqual([3, 3, cin, cout]);
          expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-6 * scale);
          const g = tf.grads(loss(mergeRepKernel))(list(b));
          const gRef = tf.grads(loss(mergeRepKernelOps))(list(b));
          g.forEach((x, i) => {
            expect(x.shape, `gradient ${i}`).toEqual(gRef[i].shape);
            const s = tf.tidy(() => tf.max(tf.abs(gRef[i])).dataSync()[0]);
            expect(s, `gradient ${i}`).toBeGreaterThan(0);
            expect(maxAbsDiff(x, gRef[i]), `gradient ${i} (${cin}→${cout})`).toBeLessThan(1e-5 * s);
          });
          tf.dispose([ours, ref, ...g, ...gRef]);
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose([dy, ...list(b)]);
        }
      } finally {
        await useBackend('cpu');
      }
    });
  }

  it('gives the same bits with its WebAssembly products as with its JavaScript loops (3→16, 16→16, 16→48, 16→12, 16→1)', () => {
    const bits = (ts: tf.Tensor[]) => ts.map((t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer)));
    for (const [cin, cout] of [[3, 16], [16, 16], [16, 48], [16, 12], [16, 1]]) {
      const b = branches(cin, cout, 7 * cin + cout);
      const dy = tf.randomNormal([3, 3, cin, cout], 0, 1, 'float32', 6);
      const run = (wasm: boolean) => {
        repMergeSettings.wasm = wasm;
        try {
          const [value, g] = tf.tidy(() => [mergeRepKernel(b), tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(mergeRepKernel(fromList(t)), dy)))(list(b))] as const);
          const out = bits([value, ...g]);
          tf.dispose([value, ...g]);
          return out;
        } finally {
          repMergeSettings.wasm = true;
        }
      };
      const runs = repMergeSettings.wasmRuns;
      const simd = run(true);
      expect(repMergeSettings.wasmRuns - runs).toBe(cout % 8 === 0 ? 3 : 0); // two merges and a gradient (C_out in eights only)
      const loops = run(false);
      expect(repMergeSettings.wasmRuns - runs).toBe(cout % 8 === 0 ? 3 : 0);
      expect(simd.length).toBe(11);
      simd.forEach((v, i) => expect(v, `output ${i} (${cin}→${cout})`).toEqual(loops[i]));
      tf.dispose([dy, ...list(b)]);
    }
  });
});

describe('convWithBias (the layer\'s convolution: no input gradient where the input needs none)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gives tf.fused.conv2d's values and gradients, bit for bit, on ${backend}, and skips the input's gradient`, async () => {
      await useBackend(backend);
      try {
        const x = tf.randomNormal([2, 9, 7, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.variable(tf.randomNormal([3, 3, 8, 16], 0, 0.3, 'float32', 2));
        const b = tf.variable(tf.randomNormal([16], 0, 0.3, 'float32', 3));
        const dy = tf.randomNormal([2, 9, 7, 16], 0, 1, 'float32', 4);
        const before = tf.memory().numTensors;
        const ours = (v: tf.Tensor4D) => convWithBias(v, w as tf.Tensor4D, b as tf.Tensor1D);
        const ref = (v: tf.Tensor4D) => tf.fused.conv2d({ x: v, filter: w as tf.Tensor4D, bias: b, strides: 1, pad: 'same' });
        const [y, yRef] = [ours(x), ref(x)];
        expect(y.dataSync()).toEqual(yRef.dataSync());
        // The filter and bias gradients with the input constant: the same bits, and no Conv2DBackpropInput kernel.
        const run = (f: (v: tf.Tensor4D) => tf.Tensor4D) => tf.variableGrads(() => tf.sum(tf.mul(f(x), dy)), [w, b]);
        let g!: ReturnType<typeof run>;
        const prof = await tf.profile(() => {
          g = run(ours);
        });
        const gRef = run(ref);
        expect(prof.kernelNames).not.toContain('Conv2DBackpropInput');
        expect(prof.kernelNames).toContain('Conv2DBackpropFilter');
        for (const v of [w, b]) expect(g.grads[v.name].dataSync(), v.name).toEqual(gRef.grads[v.name].dataSync());
        // With an input that needs a gradient, its gradient too.
        const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ours(v as tf.Tensor4D), dy)))(x);
        const dxRef = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ref(v as tf.Tensor4D), dy)))(x);
        expect(dx.dataSync()).toEqual(dxRef.dataSync());
        tf.dispose([y, yRef, g.value, gRef.value, ...Object.values(g.grads), ...Object.values(gRef.grads), dx, dxRef]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w, b, dy]);
      } finally {
        await useBackend('cpu');
      }
    });
  }
});

describe('reparameterize', () => {
  it('gives the plain compact net with the same outputs, names, cost and metadata', async () => {
    const rep = buildStudent({ arch: 'compact', scale: 4, width: 8, depth: 2, reparam: true, seed: 5 });
    randomize(rep, 5);
    const plain = await reparameterize(rep);
    expect(plain.layers.some((l) => l instanceof RepConv2D)).toBe(false);
    expect(plain.layers.map((l) => l.name)).toEqual(rep.layers.map((l) => l.name));
    const ref = buildStudent({ arch: 'compact', scale: 4, width: 8, depth: 2, seed: 5 });
    expect(plain.countParams()).toBe(ref.countParams());
    expect(rep.countParams()).toBeGreaterThan(ref.countParams());
    const [dr, dp] = [describeModel(rep, { inputSize: [32, 32] }), describeModel(plain, { inputSize: [32, 32] })];
    expect([dr.macs, dr.receptiveField]).toEqual([dp.macs, dp.receptiveField]);
    // Metadata describes the plain graph (rebuilding from its options gives it), with the training provenance kept.
    expect(getModelInfo(plain).options).toMatchObject({ reparam: false, trainedWithReparam: true, width: 8, depth: 2 });
    expect(getModelInfo(rep).options.reparam).toBe(true);
    const rebuilt = buildStudent({ arch: 'compact', scale: 4, ...(getModelInfo(plain).options as { width: number; depth: number; reparam: boolean }) });
    expect(rebuilt.layers.some((l) => l instanceof RepConv2D)).toBe(false);
    rebuilt.dispose();
    const x = tf.randomUniform([1, 9, 11, 3], 0, 1, 'float32', 6);
    const [a, b] = [rep.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(await reparameterize(ref)).toBe(ref);
    tf.dispose([x, a, b]);
    for (const m of [rep, plain, ref]) m.dispose();
  });

  it('rejects reparam for other architectures', () => {
    expect(() => buildStudent({ arch: 'espcn', scale: 2, reparam: true })).toThrow(ConfigError);
  });

  it('merges wider expand branches (reparamExpand) into the plain net and records their width as provenance', async () => {
    expect(() => buildStudent({ arch: 'compact', scale: 2, reparamExpand: 4 })).toThrow(/needs reparam/);
    expect(() => buildStudent({ arch: 'compact', scale: 2, reparam: true, reparamExpand: 0 })).toThrow(ConfigError);
    const rep = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 1, reparam: true, reparamExpand: 8, seed: 9 });
    expect(rep.layers.filter((l): l is RepConv2D => l instanceof RepConv2D).map((l) => l.expand)).toEqual([8, 8, 8]);
    randomize(rep, 9);
    const plain = await reparameterize(rep);
    const options = getModelInfo(plain).options;
    expect(options).toMatchObject({ reparam: false, trainedWithReparam: true, trainedWithReparamExpand: 8 });
    expect(options).not.toHaveProperty('reparamExpand');
    const rebuilt = buildStudent({ arch: 'compact', scale: 2, ...(options as { width: number; depth: number }) });
    expect(rebuilt.countParams()).toBe(plain.countParams());
    const x = tf.randomUniform([1, 7, 9, 3], 0, 1, 'float32', 10);
    const [a, b] = [rep.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    tf.dispose([x, a, b]);
    for (const m of [rep, plain, rebuilt]) m.dispose();
  });

  it('exports a RepConv2D model to ONNX as its plain conv', async () => {
    const rep = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, reparam: true, seed: 7 });
    randomize(rep, 7);
    const plain = await reparameterize(rep);
    // The exporter writes the merged kernel for a RepConv2D: byte for byte the export of the plain model.
    expect(Buffer.from(modelToOnnx(rep)).equals(Buffer.from(modelToOnnx(plain)))).toBe(true);
    rep.dispose();
    plain.dispose();
  });

  it('training saves the plain model (model-best / model-last) and keeps tensors flat', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, reparam: true, seed: 8 });
    const data = syntheticDataset({ scale: 2, patchSize: 12, batchSize: 2, seed: 1, images: 2, imageSize: 32 });
    const out = path.join(tmp, 'run');
    const before = tf.memory().numTensors;
    await train({ student: m, data, schedule: { steps: 4, lr: 1e-3 }, out, checkpoint: { every: 2 } }); // no EMA: the saved weights are m's
    expect(tf.memory().numTensors).toBe(before);
    const saved = await loadModel(path.join(out, 'model-last'));
    expect(saved.layers.some((l) => l.getClassName() === 'RepConv2D')).toBe(false);
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 10);
    const [a, b] = [m.predict(x) as tf.Tensor, saved.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    tf.dispose([x, a, b]);
    saved.dispose();
    m.dispose();
  });
});
