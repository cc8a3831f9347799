/**
 * EMT: the architecture (tiny configurations, any size, save/load, ONNX), the conversion from PyTorch state dicts,
 * and parity with the reference implementation on the published checkpoints (skipped when
 * $SHARPEN_KD_TEACHERS, default ../shared/teachers, does not hold them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { useBackend } from '../src/backends/use-backend';
import { ConfigError, InputError, ModelError } from '../src/errors';
import { Student } from '../src/infer/student';
import { loadModel, saveModel } from '../src/io/model-io';
import { readImage } from '../src/io/node-image';
import { toFloatRgb } from '../src/io/raw-image';
import { loadTorchWeights, type TorchWeights } from '../src/io/torch-weights';
import { buildEmt, emtTaps } from '../src/models/emt';
import { emtConfigFromTorch, emtFromTorch } from '../src/models/emt-weights';
import { channelShiftKernel } from '../src/models/layers/channel-shift';
import { getModelInfo } from '../src/models/metadata';
import { loadPretrainedTeacher } from '../src/models/pretrained-teachers';
import { hasOrt } from './has-ort';

const ROOT = path.resolve(__dirname, '..');
const TEACHERS = path.resolve(ROOT, process.env.SHARPEN_KD_TEACHERS ?? '../shared/teachers');
const REFERENCE = path.join(TEACHERS, 'EMT/reference');
const hasTeachers = fs.existsSync(path.join(TEACHERS, 'EMT/EMT_LSR_x4.pth')) && fs.existsSync(path.join(REFERENCE, 'reference.json'));

/** A tiny EMT: dim 10, one block of two layers (one attention, one pixel mixer), 4×2 / 2×4 windows. */
const tiny = (scale: 2 | 3 | 4, seed = 1) => buildEmt({ scale, dim: 10, blocks: 1, layers: 2, attentionLayers: 1, heads: 1, windows: [[4, 2], [2, 4]], shifts: [[2, 1], [1, 2]], seed });

/** A smooth image in [0.1, 0.9] (attention logits on noise are too peaked to compare implementations). */
function smooth(h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => {
    const yy = tf.reshape(tf.linspace(0, 1, h), [h, 1, 1]);
    const xx = tf.reshape(tf.linspace(0, 1, w), [1, w, 1]);
    const phase = tf.reshape(tf.tensor1d([0, 1, 2]), [1, 1, 3]);
    return tf.expandDims(tf.add(tf.mul(tf.sin(tf.add(tf.mul(tf.add(yy, tf.mul(xx, 0.7)), 7), phase)), 0.4), 0.5), 0) as tf.Tensor4D;
  });
}

let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-emt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('EMT architecture', () => {
  it('maps any H×W to H·s×W·s for s = 2, 3, 4 (odd sizes, smaller than a window), without leaking tensors', () => {
    for (const s of [2, 3, 4] as const) {
      const m = tiny(s);
      for (const [h, w] of [[7, 9], [3, 2], [16, 5]]) {
        const before = tf.memory().numTensors;
        const y = tf.tidy(() => m.predict(smooth(h, w)) as tf.Tensor);
        expect(y.shape).toEqual([1, h * s, w * s, 3]);
        expect(Number.isFinite(tf.tidy(() => tf.sum(y).dataSync()[0]))).toBe(true);
        y.dispose();
        expect(tf.memory().numTensors).toBe(before);
      }
      m.dispose();
    }
  });

  it('has the published configuration by default: 0.69 M learnable parameters at ×4, taps at blocks 2, 4, 6', () => {
    const m = buildEmt({ scale: 4, seed: 1 });
    const info = getModelInfo(m);
    expect(info).toMatchObject({ arch: 'emt', role: 'teacher', scale: 4, taps: ['body.1', 'body.3', 'body.5'] });
    // 0.69 M learnable + BatchNorm statistics (2 × (2·120 + 4·60) per block = 5760) + the two frozen 3×3+3 mean shifts.
    expect(m.countParams()).toBe(695_832);
    expect(emtTaps(6)).toEqual(['body.1', 'body.3', 'body.5']);
    m.dispose();
  });

  it('rejects configurations the layers cannot run', () => {
    expect(() => buildEmt({ scale: 4, dim: 12 })).toThrow(ConfigError);
    expect(() => buildEmt({ scale: 5 as 4 })).toThrow(ConfigError);
  });

  it('saves and loads (custom layers registered) with the same output', async () => {
    const m = tiny(2, 7);
    const dir = path.join(tmp, 'tiny-emt');
    await saveModel(m, dir);
    const back = await loadModel(dir);
    const x = smooth(9, 11);
    const [a, b] = [m.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
    expect(getModelInfo(back).arch).toBe('emt');
    tf.dispose([a, b, x]);
    m.dispose();
    back.dispose();
  });

  it.skipIf(!hasOrt)('exports to ONNX (shifts, reflect padding, rolls, windows) and matches TF.js, inputs smaller than half a window too', async () => {
    const m = tiny(3, 3);
    const runner = await createOnnxRunner(m, { threads: 1 });
    // Windows of 4: a side of 2 needs two reflect rounds (2 → 3 → 4), a side of 1 the edge pad.
    for (const [h, w] of [[9, 13], [8, 8], [5, 6], [2, 2], [1, 3], [3, 1], [1, 1]]) {
      const x = smooth(h, w);
      const ref = m.predict(x) as tf.Tensor;
      const got = await runner.run(x.dataSync() as Float32Array, [1, h, w, 3]);
      expect(got.shape).toEqual(ref.shape);
      const r = ref.dataSync();
      let max = 0;
      for (let i = 0; i < r.length; i++) max = Math.max(max, Math.abs(r[i] - got.data[i]));
      expect(max).toBeLessThan(1e-4);
      tf.dispose([x, ref]);
    }
    await runner.dispose();
    m.dispose();
  });
});

describe('EMT from a PyTorch state dict', () => {
  /** The state dict of a tiny model, as the reference names and lays it out (PyTorch layouts). */
  function stateDict(scale: number): TorchWeights {
    const w: TorchWeights = new Map();
    const put = (k: string, shape: number[], fill: (i: number) => number = (i) => Math.sin(i + k.length) * 0.1) =>
      w.set(k, { dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)) });
    const eye = (i: number) => (i % 4 === 0 ? 1 : 0);
    put('sub_mean.weight', [3, 3, 1, 1], eye);
    put('sub_mean.bias', [3], (i) => -255 * [0.469, 0.449, 0.4036][i]);
    put('add_mean.weight', [3, 3, 1, 1], eye);
    put('add_mean.bias', [3], (i) => 255 * [0.469, 0.449, 0.4036][i]);
    put('head.weight', [10, 3, 3, 3]);
    put('head.bias', [10]);
    const bn = (k: string, c: number) => {
      put(`${k}.weight`, [c], () => 1);
      put(`${k}.bias`, [c], () => 0);
      put(`${k}.running_mean`, [c], () => 0);
      put(`${k}.running_var`, [c], () => 1);
    };
    put('body.0.sa_list.0.attn.0.weight', [20, 10, 1, 1]);
    put('body.0.sa_list.0.attn.0.bias', [20]);
    bn('body.0.sa_list.0.attn.1', 20);
    put('body.0.sa_list.0.proj.0.weight', [10, 10, 1, 1]);
    put('body.0.sa_list.0.proj.0.bias', [10]);
    const mask = (mode: 'pixel-mixer' | 'shift-conv', c: number) => {
      const k = channelShiftKernel(mode, c);
      return (i: number) => k[(i % 9) * c + Math.floor(i / 9)] + (mode === 'pixel-mixer' && i % 9 === 4 ? 1 : 0);
    };
    put('body.0.sa_list.1.token_mixer.mask', [10, 1, 3, 3], mask('pixel-mixer', 10));
    bn('body.0.sa_list.1.norm', 10);
    for (const l of [0, 1]) {
      put(`body.0.mlp_list.${l}.fc1.weight`, [20, 10, 1, 1]);
      put(`body.0.mlp_list.${l}.fc1.bias`, [20]);
      put(`body.0.mlp_list.${l}.fc1.mask`, [10, 1, 3, 3], mask('shift-conv', 10));
      put(`body.0.mlp_list.${l}.fc2.weight`, [10, 20, 1, 1]);
      put(`body.0.mlp_list.${l}.fc2.bias`, [10]);
      put(`body.0.mlp_list.${l}.fc2.mask`, [20, 1, 3, 3], mask('shift-conv', 20));
    }
    put('tail.0.weight', [3 * scale * scale, 10, 3, 3]);
    put('tail.0.bias', [3 * scale * scale]);
    return w;
  }

  it('reads the configuration from names and shapes, and converts the layouts', () => {
    const w = stateDict(2);
    expect(emtConfigFromTorch(w)).toMatchObject({ scale: 2, dim: 10, blocks: 1, layers: 2, attentionLayers: 1, mlpRatio: 2 });
    // Heads and windows are not in a state dict: the published ones (3 heads) do not divide this tiny dim.
    expect(() => emtFromTorch(w)).toThrow(ConfigError);
    const m = emtFromTorch(w, { heads: 1, windows: [[4, 2], [2, 4]], shifts: [[2, 1], [1, 2]] });
    const y = tf.tidy(() => m.predict(smooth(6, 5)) as tf.Tensor);
    expect(y.shape).toEqual([1, 12, 10, 3]);
    y.dispose();
    m.dispose();
  });

  it('refuses what is not EMT, and a shift mask with another pattern', () => {
    expect(() => emtFromTorch(new Map())).toThrow(ModelError);
    const w = stateDict(4);
    const m = w.get('body.0.mlp_list.0.fc1.mask')!;
    const bad = new Float32Array(m.data);
    bad.set([1, 0, 0, 0, 0, 0, 0, 0, 0], 0);
    w.set('body.0.mlp_list.0.fc1.mask', { ...m, data: bad });
    const tinyWindows = { heads: 1, windows: [[4, 2], [2, 4]] as [number, number][] };
    expect(() => emtFromTorch(w, tinyWindows)).toThrow(/fixed shift mask "body.0.mlp_list.0.fc1.mask"/);
    w.delete('tail.0.bias');
    expect(() => emtFromTorch(w, tinyWindows)).toThrow(ModelError);
  });
});

describe.skipIf(!hasTeachers)('EMT parity with the reference implementation (published checkpoints)', () => {
  const reference = hasTeachers ? (JSON.parse(fs.readFileSync(path.join(REFERENCE, 'reference.json'), 'utf8')) as Record<string, { input: string; output: string; output_shape_hwc: number[] }>) : {};

  for (const s of [2, 3, 4] as const) {
    it(`x${s}: the 40×48 crop matches the reference output (max ≤ 0.05, mean ≤ 0.005 on 0–255) in TF.js${hasOrt ? ' and ONNX Runtime' : ''}`, async () => {
      const ref = reference[`x${s}`];
      const model = await loadPretrainedTeacher(`emt-x${s}`, { weights: TEACHERS });
      expect(getModelInfo(model).scale).toBe(s);
      const img = await readImage(path.join(REFERENCE, ref.input));
      const x = tf.tensor4d(toFloatRgb(img), [1, img.height, img.width, 3]);
      const bytes = fs.readFileSync(path.join(REFERENCE, ref.output));
      const want = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      const compare = (got: ArrayLike<number>) => {
        let max = 0;
        let sum = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got[i] * 255 - want[i]);
          max = Math.max(max, d);
          sum += d;
        }
        return { max, mean: sum / want.length };
      };
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape.slice(1)).toEqual(ref.output_shape_hwc);
      const tfjs = compare(y.dataSync());
      expect(tfjs.max).toBeLessThanOrEqual(0.05);
      expect(tfjs.mean).toBeLessThanOrEqual(0.005);
      if (hasOrt) {
        const runner = await createOnnxRunner(model, { threads: 2 });
        const onnx = compare((await runner.run(x.dataSync() as Float32Array, [1, img.height, img.width, 3])).data);
        await runner.dispose();
        expect(onnx.max).toBeLessThanOrEqual(0.05);
        expect(onnx.mean).toBeLessThanOrEqual(0.005);
      }
      tf.dispose([x, y]);
      model.dispose();
    });
  }

  it('names the missing file and the way to provide it', async () => {
    await expect(Student.load(path.join(tmp, 'no-such-EMT_LSR_x4.pth'))).rejects.toThrow(InputError);
    await expect(loadPretrainedTeacher('emt-x4', { weights: tmp })).rejects.toThrow(/EMT_LSR_x4\.pth.*SHARPEN_KD_TEACHERS/);
    await expect(loadPretrainedTeacher('emt-x4', { weights: TEACHERS, scale: 2 })).rejects.toThrow(ConfigError);
    const x2 = loadTorchWeights(fs.readFileSync(path.join(TEACHERS, 'EMT/EMT_LSR_x2.pth')));
    expect(emtConfigFromTorch(x2)).toMatchObject({ scale: 2, dim: 60, blocks: 6, layers: 6, attentionLayers: 2, mlpRatio: 2 });
  });
});
