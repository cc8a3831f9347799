// The wasm training kernels against the cpu backend on random inputs: relative error < 1e-5 (relative to
// max |reference|) and no leaked tensors. Shapes are small so that the cpu reference stays fast.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients (tfjs-layers imports these); the tests need Sum, Mul, ...
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { Rng } from '../src/core/rng';
import { spaceToDepth } from '../src/backends/wasm-kernels/depth-to-space-grad';
import { rgbToY, rgbToYHost } from '../src/metrics/y-channel';
import { installPreluGradient, PRELU_GRAD, preluGradConfig, uninstallPreluGradient } from '../src/backends/wasm-kernels/prelu-grad';
import { preluConfig } from '../src/backends/wasm-kernels/prelu';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../src/backends/wasm-kernels/register';

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
type Shape4 = [number, number, number, number];

const rng = new Rng(1234);
function randomData(shape: number[]): Float32Array {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Runs `kernel` with the same inputs on cpu and on wasm; returns both outputs and the tensor-count drift. */
async function onBoth(
  kernel: string,
  inputs: Record<string, { data: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<{ ref: Float32Array; got: Float32Array; refShape: number[]; gotShape: number[]; leaked: number }> {
  const results: Array<{ data: Float32Array; shape: number[] }> = [];
  let leaked = 0;
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const ts: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
    const out = tf.engine().runKernel(kernel, ts as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    results.push({ data: (await out.data()) as Float32Array, shape: out.shape });
    out.dispose();
    Object.values(ts).forEach((t) => t.dispose());
    leaked += tf.memory().numTensors - before;
  }
  return { ref: results[0].data, got: results[1].data, refShape: results[0].shape, gotShape: results[1].shape, leaked };
}

function randomDataSeeded(shape: number[], seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => r.uniform(-1, 1));
}

function relErr(ref: Float32Array, got: Float32Array): number {
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

function outShape(x: Shape4, f: Shape4, s: number, pad: Pad, depthwise = false): number[] {
  return tf.backend_util.computeConv2DInfo(x, f, s, 1, pad, undefined, depthwise).outShape;
}

interface ConvCase {
  x: Shape4;
  f: Shape4;
  s: number;
  pad: Pad;
}

// Strides 1 and 2; 'same', 'valid', a number and explicit asymmetric pads; kernels 1 to 7; several batch
// and channel sizes, including odd spatial sizes where 'valid' leaves rows unread.
const CONV_CASES: ConvCase[] = [
  { x: [2, 9, 11, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
  { x: [2, 9, 11, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [1, 8, 8, 5], f: [1, 1, 5, 7], s: 1, pad: 'valid' },
  { x: [3, 7, 6, 2], f: [1, 1, 2, 3], s: 2, pad: 'same' },
  { x: [2, 10, 9, 4], f: [2, 2, 4, 3], s: 2, pad: 'valid' },
  { x: [1, 11, 11, 3], f: [4, 4, 3, 2], s: 2, pad: 'same' },
  { x: [2, 9, 8, 3], f: [5, 5, 3, 2], s: 1, pad: [[0, 0], [1, 3], [2, 0], [0, 0]] },
  { x: [1, 12, 13, 2], f: [5, 3, 2, 6], s: 2, pad: 'valid' },
  { x: [1, 14, 14, 1], f: [7, 7, 1, 1], s: 1, pad: 3 },
  { x: [2, 13, 12, 3], f: [7, 7, 3, 4], s: 2, pad: 'same' },
  { x: [4, 16, 16, 8], f: [3, 3, 8, 16], s: 1, pad: 'same' },
  { x: [1, 6, 6, 2], f: [3, 3, 2, 2], s: 1, pad: [[0, 0], [4, 4], [4, 4], [0, 0]] },
];

// Large enough that the filter gradient splits dy into several row blocks (reduction chunks).
const FILTER_CASES: ConvCase[] = [
  ...CONV_CASES,
  { x: [16, 48, 48, 2], f: [3, 3, 2, 9], s: 1, pad: 'same' },
  { x: [16, 64, 40, 2], f: [3, 3, 2, 3], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  // Stride 1 (the SIMD loop): 8 to 16 input channels, at most 16 outputs, channels padded to 4 / 8.
  { x: [2, 10, 9, 12], f: [3, 3, 12, 12], s: 1, pad: 'same' },
  { x: [16, 40, 40, 8], f: [3, 3, 8, 8], s: 1, pad: 'same' },
  { x: [2, 11, 12, 9], f: [3, 5, 9, 4], s: 1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  // A long reduction (16·96·96 pixels), then the im2col formulation in several column blocks (R * P > 4M floats).
  { x: [16, 96, 96, 4], f: [3, 3, 4, 8], s: 1, pad: 'same' },
  { x: [3, 9, 10, 40], f: [1, 1, 40, 20], s: 2, pad: 'valid' },
  // (Added after the cases above, so that those keep their random data.) Stride 1 (the WebAssembly SIMD loop) with
  // 'valid' and unread rows, pads larger than the kernel, even and non-square kernels, channels padded to 4 / 8.
  { x: [2, 9, 8, 8], f: [3, 3, 8, 8], s: 1, pad: 'valid' },
  { x: [2, 6, 7, 9], f: [3, 3, 9, 10], s: 1, pad: [[0, 0], [4, 4], [3, 5], [0, 0]] },
  { x: [3, 8, 10, 16], f: [2, 4, 16, 16], s: 1, pad: 'same' },
  // More than 16 channels, several row blocks (the convolution formulation before the SIMD loop took stride 1).
  { x: [2, 10, 9, 20], f: [3, 3, 20, 20], s: 1, pad: 'same' },
  { x: [16, 40, 16, 17], f: [3, 3, 17, 17], s: 1, pad: 'same' },
  // The SIMD loop on channels that fill its blocks (Ci a multiple of 4, Co of 8): pads larger than the kernel,
  // 'valid' with unread rows and columns, 1x1 and non-square kernels, several blocks of input and output channels.
  { x: [2, 6, 7, 8], f: [3, 3, 8, 16], s: 1, pad: [[0, 0], [4, 4], [3, 5], [0, 0]] },
  { x: [3, 11, 9, 12], f: [3, 3, 12, 8], s: 1, pad: 'valid' },
  { x: [2, 8, 8, 4], f: [1, 1, 4, 24], s: 1, pad: 'same' },
  { x: [2, 9, 10, 16], f: [5, 3, 16, 32], s: 1, pad: 'same' },
  { x: [16, 12, 12, 16], f: [3, 3, 16, 16], s: 1, pad: 'same' },
];

const label = (c: ConvCase) => `x ${c.x} f ${c.f} s ${c.s} pad ${JSON.stringify(c.pad)}`;

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Conv2DBackpropFilter on wasm (XNNPACK convs over transposed tensors)', () => {
  it.each(FILTER_CASES)('matches cpu: $x $f s$s $pad', async (c) => {
    const dyShape = outShape(c.x, c.f, c.s, c.pad);
    const r = await onBoth(
      'Conv2DBackpropFilter',
      { x: { data: randomData(c.x), shape: c.x }, dy: { data: randomData(dyShape), shape: dyShape } },
      { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
    );
    expect(r.gotShape, label(c)).toEqual(c.f);
    expect(relErr(r.ref, r.got), label(c)).toBeLessThan(1e-5);
    expect(r.leaked).toBe(0);
    // The cpu backend's reference for the largest case takes ~40 s on an idle 2-core machine and over 120 s beside a
    // training run: a generous limit keeps a busy machine from failing a correct kernel.
  }, 300_000);
});

// Transposed-convolution shapes too: strides 3 and 4, and filters smaller than the stride (phases without taps).
const INPUT_CASES: ConvCase[] = [
  ...CONV_CASES,
  { x: [2, 12, 12, 4], f: [3, 3, 4, 3], s: 3, pad: 'same' },
  { x: [1, 13, 10, 2], f: [2, 2, 2, 3], s: 3, pad: 'valid' },
  { x: [2, 16, 16, 3], f: [4, 4, 3, 5], s: 4, pad: 'same' },
  { x: [1, 9, 9, 2], f: [1, 1, 2, 2], s: 2, pad: 'valid' },
  { x: [1, 10, 11, 3], f: [6, 6, 3, 2], s: 2, pad: [[0, 0], [0, 5], [3, 1], [0, 0]] },
  // >= 8 input channels: stride-phase convolutions (fewer go through the 1x1 conv + scatter-add path).
  { x: [2, 11, 10, 8], f: [3, 3, 8, 4], s: 2, pad: 'same' },
  { x: [1, 13, 12, 9], f: [5, 5, 9, 3], s: 3, pad: 'valid' },
  { x: [2, 9, 9, 8], f: [1, 1, 8, 2], s: 2, pad: 'valid' },
  { x: [1, 12, 12, 10], f: [4, 4, 10, 3], s: 2, pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  // batch larger than one scatter-add chunk
  { x: [9, 40, 40, 3], f: [7, 7, 3, 4], s: 1, pad: 'same' },
  // Channel counts past one 32x32 tile of the filter flip, non-square kernels.
  { x: [2, 7, 6, 40], f: [3, 1, 40, 36], s: 1, pad: 'same' },
  { x: [2, 6, 6, 70], f: [1, 1, 70, 33], s: 2, pad: 'same' },
];

// Forward convolutions: the SIMD loop (stride 1, Ci in fours, Co in eights: 'same', 'valid', explicit pads larger
// than the kernel, a row width that is not a multiple of 4, 1x1 and non-square kernels) and XNNPACK for the rest.
const FORWARD_CASES: ConvCase[] = [
  ...CONV_CASES,
  { x: [2, 9, 11, 16], f: [3, 3, 16, 16], s: 1, pad: 'same' },
  { x: [3, 8, 13, 4], f: [3, 3, 4, 8], s: 1, pad: 'valid' },
  { x: [1, 6, 7, 8], f: [3, 3, 8, 24], s: 1, pad: [[0, 0], [4, 4], [3, 5], [0, 0]] },
  { x: [2, 5, 6, 12], f: [1, 1, 12, 8], s: 1, pad: 'valid' },
  { x: [2, 7, 9, 8], f: [5, 3, 8, 16], s: 1, pad: 'same' },
  { x: [1, 3, 2, 4], f: [3, 3, 4, 8], s: 1, pad: 'same' },
];

describe('Conv2D and FusedConv2D on wasm (SIMD loop or XNNPACK)', () => {
  it.each(FORWARD_CASES)('match cpu: $x $f s$s $pad', async (c) => {
    const inputs = { x: { data: randomData(c.x), shape: c.x }, filter: { data: randomData(c.f), shape: c.f } };
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
    const r = await onBoth('Conv2D', inputs, attrs);
    expect(r.gotShape, label(c)).toEqual(r.refShape);
    expect(relErr(r.ref, r.got), label(c)).toBeLessThan(1e-5);
    expect(r.leaked).toBe(0);
    const bias = { data: randomData([c.f[3]]), shape: [c.f[3]] };
    const f = await onBoth('FusedConv2D', { ...inputs, bias }, { ...attrs, activation: 'linear' });
    expect(f.gotShape, label(c)).toEqual(f.refShape);
    expect(relErr(f.ref, f.got), label(c)).toBeLessThan(1e-5);
    expect(f.leaked).toBe(0);
    // An activation goes to XNNPACK.
    const relu = await onBoth('FusedConv2D', { ...inputs, bias }, { ...attrs, activation: 'relu' });
    expect(relErr(relu.ref, relu.got), label(c)).toBeLessThan(1e-5);
  });
});

describe('Conv2DBackpropInput on wasm (XNNPACK convs per stride phase)', () => {
  it.each(INPUT_CASES)('matches cpu: $x $f s$s $pad', async (c) => {
    const dyShape = outShape(c.x, c.f, c.s, c.pad);
    const r = await onBoth(
      'Conv2DBackpropInput',
      { dy: { data: randomData(dyShape), shape: dyShape }, filter: { data: randomData(c.f), shape: c.f } },
      { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
    );
    expect(r.gotShape, label(c)).toEqual(c.x);
    expect(relErr(r.ref, r.got), label(c)).toBeLessThan(1e-5);
    expect(r.leaked).toBe(0);
  });
});

// Depthwise: filter [KH, KW, C, M]; channel multipliers 1 and 2, dilation 2 too.
interface DepthwiseCase extends ConvCase {
  d?: number;
}
const DEPTHWISE_CASES: DepthwiseCase[] = [
  { x: [2, 9, 11, 3], f: [3, 3, 3, 1], s: 1, pad: 'same' },
  { x: [2, 9, 11, 3], f: [3, 3, 3, 2], s: 2, pad: 'same' },
  { x: [1, 8, 8, 5], f: [1, 1, 5, 1], s: 1, pad: 'valid' },
  { x: [2, 10, 9, 4], f: [2, 2, 4, 3], s: 2, pad: 'valid' },
  { x: [2, 9, 8, 3], f: [5, 5, 3, 1], s: 1, pad: [[0, 0], [1, 3], [2, 0], [0, 0]] },
  { x: [1, 14, 14, 2], f: [7, 7, 2, 1], s: 1, pad: 3 },
  { x: [2, 13, 12, 3], f: [7, 7, 3, 2], s: 2, pad: 'same' },
  { x: [4, 16, 16, 8], f: [3, 3, 8, 1], s: 1, pad: 'same' },
];

// tfjs-backend-cpu's depthwise backprops ignore dilation (tfjs-core's gradient forbids dilation > 1), so
// dilated cases are checked against cpu running the equivalent undilated conv with a zero-dilated filter.
const DILATED_CASES: DepthwiseCase[] = [
  { x: [2, 12, 12, 3], f: [3, 3, 3, 2], s: 1, pad: 'valid', d: 2 },
  { x: [1, 11, 10, 2], f: [2, 3, 2, 1], s: 1, pad: [[0, 0], [2, 1], [0, 3], [0, 0]], d: 3 },
];

/** `[KH, KW, C, M]` -> `[(KH-1)*d+1, (KW-1)*d+1, C, M]` with zeros between taps. */
function dilate(w: Float32Array, [kh, kw, c, m]: Shape4, d: number): { data: Float32Array; shape: Shape4 } {
  const shape: Shape4 = [(kh - 1) * d + 1, (kw - 1) * d + 1, c, m];
  const data = new Float32Array(shape[0] * shape[1] * c * m);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let k = 0; k < c * m; k++) data[((i * d * shape[1] + j * d) * c * m) + k] = w[(i * kw + j) * c * m + k];
    }
  }
  return { data, shape };
}

async function runOn(backend: string, kernel: string, inputs: Record<string, { data: Float32Array; shape: number[] }>, attrs: object) {
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
  const out = tf.engine().runKernel(kernel, ts as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
  const data = (await out.data()) as Float32Array;
  const shape = out.shape;
  tf.dispose([out, ...Object.values(ts)]);
  return { data, shape };
}

const dwLabel = (c: DepthwiseCase) => `${label(c)} d ${c.d ?? 1}`;

describe('DepthwiseConv2dNative backprops on wasm', () => {
  it.each(DEPTHWISE_CASES)('filter grad matches cpu: $x $f s$s $pad d$d', async (c) => {
    const dyShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.d ?? 1, c.pad, undefined, true).outShape;
    const r = await onBoth(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: { data: randomData(c.x), shape: c.x }, dy: { data: randomData(dyShape), shape: dyShape } },
      { strides: c.s, dilations: c.d ?? 1, pad: c.pad, filterShape: c.f },
    );
    expect(r.gotShape, dwLabel(c)).toEqual(c.f);
    expect(relErr(r.ref, r.got), dwLabel(c)).toBeLessThan(1e-5);
    expect(r.leaked).toBe(0);
  });

  it.each(DEPTHWISE_CASES)('input grad matches cpu: $x $f s$s $pad d$d', async (c) => {
    const dyShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.d ?? 1, c.pad, undefined, true).outShape;
    const r = await onBoth(
      'DepthwiseConv2dNativeBackpropInput',
      { dy: { data: randomData(dyShape), shape: dyShape }, filter: { data: randomData(c.f), shape: c.f } },
      { strides: c.s, dilations: c.d ?? 1, pad: c.pad, inputShape: c.x },
    );
    expect(r.gotShape, dwLabel(c)).toEqual(c.x);
    expect(relErr(r.ref, r.got), dwLabel(c)).toBeLessThan(1e-5);
    expect(r.leaked).toBe(0);
  });
});

describe('dilated depthwise backprops on wasm', () => {
  it.each(DILATED_CASES)('match an undilated cpu reference: $x $f $pad d$d', async (c) => {
    const d = c.d ?? 1;
    const dyShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, d, c.pad, undefined, true).outShape;
    const x = { data: randomData(c.x), shape: c.x };
    const dy = { data: randomData(dyShape), shape: dyShape };
    const w = randomData(c.f);
    const wd = dilate(w, c.f, d);
    const before = tf.memory().numTensors;

    const dxRef = await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: wd }, { strides: 1, dilations: 1, pad: c.pad, inputShape: c.x });
    const dx = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: { data: w, shape: c.f } }, { strides: 1, dilations: d, pad: c.pad, inputShape: c.x });
    expect(dx.shape).toEqual(c.x);
    expect(relErr(dxRef.data, dx.data), dwLabel(c)).toBeLessThan(1e-5);

    const dwFull = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, dilations: 1, pad: c.pad, filterShape: wd.shape });
    const dw = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, dilations: d, pad: c.pad, filterShape: c.f });
    // The taps of the dilated filter sit at multiples of d in the undilated one.
    const [kh, kw, ch, m] = c.f;
    const dwRef = new Float32Array(kh * kw * ch * m);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let k = 0; k < ch * m; k++) dwRef[(i * kw + j) * ch * m + k] = dwFull.data[(i * d * wd.shape[1] + j * d) * ch * m + k];
      }
    }
    expect(dw.shape).toEqual(c.f);
    expect(relErr(dwRef, dw.data), dwLabel(c)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('replaced wasm kernels (Tanh, DepthToSpace, Sum) match cpu', () => {
  it('Tanh (2*sigmoid(2x)-1 on XNNPACK)', async () => {
    for (const scale of [0.01, 1, 8]) {
      const shape = [3, 7, 5, 4];
      const data = randomData(shape).map((v) => v * scale);
      const r = await onBoth('Tanh', { x: { data, shape } }, {});
      expect(relErr(r.ref, r.got), `scale ${scale}`).toBeLessThan(scale < 0.1 ? 2e-5 : 1e-6);
      expect(r.leaked).toBe(0);
    }
  });

  it.each([
    [[2, 3, 4, 12], 2],
    [[1, 5, 3, 27], 3],
    [[3, 2, 2, 4], 2],
  ])('DepthToSpace NHWC %j block %d', async (shape, bs) => {
    const r = await onBoth('DepthToSpace', { x: { data: randomData(shape), shape } }, { blockSize: bs, dataFormat: 'NHWC' });
    expect(r.gotShape).toEqual(r.refShape);
    expect(Array.from(r.got)).toEqual(Array.from(r.ref));
    expect(r.leaked).toBe(0);
  });

  it.each([
    [[2, 5, 7, 1], [2, 5, 7, 3]],
    [[2, 5, 7, 3], [2, 5, 7, 1]],
    [[3, 4, 1], [3, 4, 6]],
    [[1, 1, 3], [2, 5, 7, 3]], // another broadcast: the backend's own Add
    [[2, 5, 7, 3], [2, 5, 7, 3]],
  ])('Add %j + %j (a value per pixel added to every channel by the heap loop)', async (sa, sb) => {
    const r = await onBoth('Add', { a: { data: randomData(sa), shape: sa }, b: { data: randomData(sb), shape: sb } }, {});
    expect(r.gotShape).toEqual(r.refShape);
    expect(Array.from(r.got)).toEqual(Array.from(r.ref));
    expect(r.leaked).toBe(0);
  });

  it('rgbToY runs as heap kernels on wasm, with the bits of the host loop, forward and gradient', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomData([2, 9, 7, 3]).map((v) => (v + 1) / 2), [2, 9, 7, 3]);
    const dy = tf.tensor4d(randomData([2, 9, 7, 1]), [2, 9, 7, 1]);
    const viaKernel = (f: (v: tf.Tensor) => tf.Tensor) => tf.tidy(() => [f(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dy)))(x)]);
    const [y, g] = viaKernel(rgbToY);
    const [yHost, gHost] = viaKernel(rgbToYHost);
    expect(Array.from(await y.data())).toEqual(Array.from(await yHost.data()));
    expect(Array.from(await g.data())).toEqual(Array.from(await gHost.data()));
    const { kernelNames } = await tf.profile(() => tf.dispose(viaKernel(rgbToY)));
    expect(kernelNames).toEqual(expect.arrayContaining(['SharpenKdRgbToY', 'SharpenKdRgbToYGrad']));
    tf.dispose([x, dy, y, g, yHost, gHost]);
  });

  it('DepthToSpace NCHW equals NHWC through transposes', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(randomData([2, 12, 3, 4]), [2, 12, 3, 4]);
    const nchw = tf.depthToSpace(x, 2, 'NCHW');
    const viaNhwc = tf.tidy(() => tf.transpose(tf.depthToSpace(tf.transpose(x, [0, 2, 3, 1]), 2), [0, 3, 1, 2]));
    expect(nchw.shape).toEqual([2, 3, 6, 8]);
    expect(Array.from(await nchw.data())).toEqual(Array.from(await viaNhwc.data()));
    tf.dispose([x, nchw, viaNhwc]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [[4, 6, 5, 8], [0, 1, 2], false],
    [[4, 6, 5, 8], [0], false],
    [[4, 6, 5, 8], [1, 0], true],
    [[4, 6, 5, 3], [1, 2], false],
    [[4, 6, 5, 3], [0, 1, 2, 3], false],
    [[4, 6, 5, 3], [-1], true],
    [[7, 3], [0], false],
    [[16, 9, 9, 16], [0, 1, 2], false], // 1296 rows: the heap loop's 64-row chunks and a partial one
  ])('Sum %j over %j keepDims %s', async (shape, axis, keepDims) => {
    const r = await onBoth('Sum', { x: { data: randomData(shape), shape } }, { axis, keepDims });
    expect(r.gotShape).toEqual(r.refShape);
    expect(relErr(r.ref, r.got)).toBeLessThan(1e-5);
    expect(r.leaked).toBe(0);
  });
});

describe('zero-copy Identity on wasm', () => {
  it('clones survive disposing the original, and memory is freed with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(x);
    const v = tf.variable(x);
    x.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3]);
    const n = tf.tensor1d([7, 8, 9]);
    v.assign(n);
    n.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3]);
    expect(Array.from(await v.data())).toEqual([7, 8, 9]);
    tf.dispose([c, v]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});

describe('Prelu on wasm (one pass on the heap for per-channel or per-layer alphas in fours, else XNNPACK)', () => {
  it.each([
    [[3, 9, 7, 16], [1, 1, 16]],
    [[2, 5, 4, 8], [8]],
    [[2, 5, 4, 8], [1, 1, 8]],
    [[2, 5, 4, 6], [1, 1, 6]], // channels not in fours: the backend's own kernel
    [[2, 5, 4, 8], [1]], // one alpha for all, repeated per channel
    [[3, 9, 7, 16], [1, 1, 1]], // a one-slope PReLU layer's alpha
  ])('x %j alpha %j gives the bits of the backend\'s own kernel, zeros and negative alphas included', async (xShape, alphaShape) => {
    await tf.setBackend('wasm');
    const xData = randomData(xShape);
    for (let i = 0; i < xData.length; i += 7) xData[i] = i % 2 ? 0 : -0;
    const alphaData = randomData(alphaShape); // both signs
    const run = async () => {
      const before = tf.memory().numTensors;
      const x = tf.tensor(xData, xShape);
      const a = tf.tensor(alphaData, alphaShape);
      const y = tf.prelu(x, a);
      const out = { data: new Uint32Array(Float32Array.from((await y.data()) as Float32Array).buffer), shape: y.shape };
      tf.dispose([x, a, y]);
      expect(tf.memory().numTensors).toBe(before);
      return out;
    };
    expect(tf.getKernel('Prelu', 'wasm')).toBe(preluConfig);
    const ours = await run();
    unregisterWasmTrainingKernels();
    try {
      expect(tf.getKernel('Prelu', 'wasm')).not.toBe(preluConfig);
      const theirs = await run();
      expect(ours.shape).toEqual(theirs.shape);
      expect(Array.from(ours.data)).toEqual(Array.from(theirs.data));
    } finally {
      registerWasmTrainingKernels();
    }
  });
});

describe('Prelu gradient (one SIMD pass per input on wasm, float-only ops elsewhere)', () => {
  it('matches tfjs-core\'s gradient, per-channel and scalar alpha, and leaks nothing', async () => {
    const grads = async (backend: string, xShape: number[], alphaShape: number[]) => {
      await tf.setBackend(backend);
      const x = tf.tensor(randomDataSeeded(xShape, 5), xShape);
      const a = tf.tensor(randomDataSeeded(alphaShape, 6), alphaShape);
      const w = tf.tensor(randomDataSeeded(xShape, 7), xShape);
      const before = tf.memory().numTensors;
      const [gx, ga] = tf.grads((xx: tf.Tensor, aa: tf.Tensor) => tf.sum(tf.mul(tf.prelu(xx, aa), w)))([x, a]);
      expect(tf.memory().numTensors).toBe(before + 2);
      const out = [await gx.data(), await ga.data(), ga.shape] as const;
      tf.dispose([x, a, w, gx, ga]);
      return out;
    };
    // 6 channels: the float-op gradient; 8 and 16: the SIMD kernel on wasm (the pixel count spans several of its
    // 64-pixel chunks and ends inside one).
    const cases: [number[], number[]][] = [
      [[2, 5, 4, 6], [1, 1, 6]], [[2, 5, 4, 6], [6]], [[2, 5, 4, 6], [1]],
      [[2, 5, 4, 8], [1, 1, 8]], [[3, 9, 7, 16], [16]], [[2, 5, 4, 8], [1]], [[3, 9, 7, 16], [1, 1, 1]],
    ];
    for (const [xShape, alphaShape] of cases) {
      uninstallPreluGradient();
      expect(tf.getGradient('Prelu')).not.toBe(preluGradConfig);
      const ref = await grads('cpu', xShape, alphaShape);
      installPreluGradient();
      expect(tf.getGradient('Prelu')).toBe(preluGradConfig);
      for (const backend of ['cpu', 'wasm']) {
        const got = await grads(backend, xShape, alphaShape);
        expect(got[2]).toEqual(ref[2]);
        expect(relErr(ref[0] as Float32Array, got[0] as Float32Array)).toBeLessThan(1e-6);
        expect(relErr(ref[1] as Float32Array, got[1] as Float32Array)).toBeLessThan(1e-5);
      }
    }
  });

  it.each([[[1, 1, 8]], [[1, 1, 1]]])('runs the one-pass kernel on wasm for alpha %j (channels in fours)', async (alphaShape) => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 6, 5, 8]);
    const a = tf.fill(alphaShape, 0.25);
    const { kernelNames } = await tf.profile(() => tf.dispose(tf.grads((xx: tf.Tensor, aa: tf.Tensor) => tf.sum(tf.prelu(xx, aa)))([x, a])));
    expect(kernelNames).toContain(PRELU_GRAD);
    expect(kernelNames).not.toContain('Step');
    tf.dispose([x, a]);
  });
});

describe('DepthToSpace gradient (every backend)', () => {
  it.each(['cpu', 'wasm'])('is space-to-depth of dy on %s, NHWC', async (backend) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(randomData([2, 3, 4, 12]), [2, 3, 4, 12]);
    const w = tf.tensor4d(randomData([2, 6, 8, 3]), [2, 6, 8, 3]);
    // loss = sum(depthToSpace(x) * w)  =>  dloss/dx = spaceToDepth(w)
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.depthToSpace(t as tf.Tensor4D, 2), w)))(x);
    const expected = tf.tidy(() => spaceToDepth(w, 2));
    expect(g.shape).toEqual(x.shape);
    expect(Array.from(await g.data())).toEqual(Array.from(await expected.data()));
    // spaceToDepth really inverts depthToSpace (checks the channel order).
    const roundTrip = tf.tidy(() => spaceToDepth(tf.depthToSpace(x, 2), 2));
    expect(Array.from(await roundTrip.data())).toEqual(Array.from(await x.data()));
    tf.dispose([x, w, g, expected, roundTrip]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches a numerical gradient for block size 3', async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor4d(randomData([1, 2, 2, 18]), [1, 2, 2, 18]);
    const w = tf.tensor4d(randomData([1, 6, 6, 2]), [1, 6, 6, 2]);
    const f = (t: tf.Tensor) => tf.sum(tf.square(tf.mul(tf.depthToSpace(t as tf.Tensor4D, 3), w)));
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => tf.grad(f)(x).dataSync());
    const xd = x.dataSync();
    for (const i of [0, 5, 17, 40, 71]) {
      const h = 1e-2;
      const plus = xd.slice();
      plus[i] += h;
      const minus = xd.slice();
      minus[i] -= h;
      const fp = tf.tidy(() => f(tf.tensor4d(plus, x.shape)).dataSync()[0]);
      const fm = tf.tidy(() => f(tf.tensor4d(minus, x.shape)).dataSync()[0]);
      expect(g[i]).toBeCloseTo((fp - fm) / (2 * h), 2);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});
