/**
 * Kernel benchmarks for training on TF.js backends: GFLOP/s of the three convolution kernels a conv net
 * trains with (forward `Conv2D`, `Conv2DBackpropFilter`, `Conv2DBackpropInput`) on typical
 * super-resolution shapes, and ms per training step of an ESPCN-like net (forward + backward + Adam).
 *
 * The machine may be shared, so every figure is a median over repetitions that are interleaved across the
 * backends being compared, and each reports process CPU time next to wall time (CPU time is what the
 * kernel itself costs when other processes steal the cores).
 */
import * as tf from '@tensorflow/tfjs-core';
import '../backends/wasm-kernels/depth-to-space-grad';
import { Rng } from '../core/rng';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../backends/wasm-kernels/register';

/**
 * A convolution to benchmark: input `[N, H, W, Cin]`, filter `[KH, KW, Cin, Cout]`, 'same' padding.
 * @example `const s: ConvShape = { name: 'x4 body', x: [8, 64, 64, 32], filter: [3, 3, 32, 32] };`
 */
export interface ConvShape {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides?: number;
}

/**
 * The convolutions of ESPCN (x2, batch 16 of 48x48 patches) and a stride-2 one.
 * @example `await benchmarkConvKernels({ shapes: SR_CONV_SHAPES.slice(1, 2) });`
 */
export const SR_CONV_SHAPES: ConvShape[] = [
  { name: 'espcn conv1 5x5 3->64', x: [16, 48, 48, 3], filter: [5, 5, 3, 64] },
  { name: 'espcn conv2 3x3 64->32', x: [16, 48, 48, 64], filter: [3, 3, 64, 32] },
  { name: 'espcn conv3 3x3 32->12', x: [16, 48, 48, 32], filter: [3, 3, 32, 12] },
  { name: 'stride-2 3x3 32->32', x: [16, 48, 48, 32], filter: [3, 3, 32, 32], strides: 2 },
];

/**
 * The kernels measured by {@link benchmarkConvKernels}.
 *
 * @example
 * ```ts
 * const rows = await benchmarkConvKernels({ kernels: ['Conv2DBackpropFilter'] satisfies ConvKernel[] });
 * ```
 */
export type ConvKernel = 'Conv2D' | 'Conv2DBackpropFilter' | 'Conv2DBackpropInput';

/**
 * Where to run: a TF.js backend name, or `'wasm-stock'` (wasm without sharpen-kd's training kernels, i.e.
 * stock tfjs-backend-wasm; kernels it lacks are skipped).
 *
 * @example
 * ```ts
 * const rows = await benchmarkConvKernels({ targets: ['wasm', 'wasm-stock'] satisfies BenchTarget[] });
 * ```
 */
export type BenchTarget = 'wasm' | 'wasm-stock' | 'cpu';

/**
 * One measurement of {@link benchmarkConvKernels}.
 * @example `for (const r of rows) console.log(r.target, r.kernel, r.gflopsCpu.toFixed(1));`
 */
export interface ConvBenchRow {
  target: BenchTarget;
  kernel: ConvKernel;
  shape: string;
  /** Batch actually run (smaller than the shape's on slow targets, see `slowBatch`). */
  batch: number;
  /** Median wall time of one call (ms), median process CPU time (ms), and GFLOP/s from each. */
  ms: number;
  cpuMs: number;
  gflops: number;
  /** GFLOP/s from CPU time: what one core delivers when other processes compete for the cores. */
  gflopsCpu: number;
}

/**
 * Options of {@link benchmarkConvKernels}.
 * @example `await benchmarkConvKernels({ targets: ['wasm'], kernels: ['Conv2DBackpropFilter'], reps: 9 });`
 */
export interface ConvBenchOptions extends TaskOptions {
  targets?: BenchTarget[];
  shapes?: ConvShape[];
  kernels?: ConvKernel[];
  /** Measured repetitions per (target, kernel, shape), interleaved; default 5. */
  reps?: number;
  /** Batch used on `'cpu'`, whose backprop kernels are very slow (default 1; GFLOP/s is per-FLOP anyway). */
  slowBatch?: number;
}

interface Sample {
  ms: number;
  cpuMs: number;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function cpuNow(): number {
  if (typeof process === 'undefined' || !process.cpuUsage) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Times `fn` once. One element of its result is read back, so that the work has finished on any backend,
 * without timing a copy of the whole output to JS.
 */
async function timeOnce(fn: () => tf.Tensor): Promise<Sample> {
  const c0 = cpuNow();
  const t0 = performance.now();
  const y = fn();
  const probe = tf.tidy(() => tf.slice(tf.reshape(y, [-1]), 0, 1));
  await probe.data();
  probe.dispose();
  const ms = performance.now() - t0;
  const cpuMs = cpuNow() - c0;
  y.dispose();
  return { ms, cpuMs };
}

async function selectTarget(target: BenchTarget): Promise<void> {
  await tf.setBackend(target === 'cpu' ? 'cpu' : 'wasm');
  if (target === 'wasm') registerWasmTrainingKernels();
  else if (target === 'wasm-stock') unregisterWasmTrainingKernels();
}

function convFlops(s: ConvShape, batch: number): number {
  const [, h, w] = s.x;
  const st = s.strides ?? 1;
  const [kh, kw, ci, co] = s.filter;
  return 2 * batch * Math.ceil(h / st) * Math.ceil(w / st) * kh * kw * ci * co;
}

/**
 * GFLOP/s of forward conv, backprop-filter and backprop-input on each target for each shape.
 * The backend packages must be loaded and initialised (e.g. by `useBackend('wasm')` and `useBackend('cpu')`).
 *
 * @example
 * ```ts
 * await useBackend('cpu'); await useBackend('wasm');
 * for (const r of await benchmarkConvKernels({ targets: ['wasm', 'cpu'] })) console.log(r.kernel, r.shape, r.gflops);
 * ```
 */
export async function benchmarkConvKernels(opts: ConvBenchOptions = {}): Promise<ConvBenchRow[]> {
  const targets = opts.targets ?? ['wasm', 'wasm-stock', 'cpu'];
  const kernels = opts.kernels ?? ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'];
  const reps = opts.reps ?? 5;
  const rng = new Rng(1);
  const rows: ConvBenchRow[] = [];
  const before = tf.getBackend();
  for (const shape of opts.shapes ?? SR_CONV_SHAPES) {
    const strides = shape.strides ?? 1;
    const cases: Array<{ target: BenchTarget; kernel: ConvKernel; batch: number; run: () => tf.Tensor; samples: Sample[]; keep: tf.Tensor[] }> = [];
    for (const target of targets) {
      await selectTarget(target);
      const batch = target === 'cpu' ? Math.min(opts.slowBatch ?? 1, shape.x[0]) : shape.x[0];
      const xShape: [number, number, number, number] = [batch, shape.x[1], shape.x[2], shape.x[3]];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape, shape.filter, strides, 1, 'same').outShape;
      const rand = (s: number[]) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)), s);
      const [x, w, dy] = [rand(xShape), rand(shape.filter), rand(dyShape)] as tf.Tensor4D[];
      for (const kernel of kernels) {
        if (target === 'wasm-stock' && !tf.getKernel(kernel, 'wasm')) continue;
        const run = (): tf.Tensor =>
          kernel === 'Conv2D'
            ? tf.conv2d(x, w, strides, 'same')
            : kernel === 'Conv2DBackpropFilter'
              ? (tf.engine().runKernel(kernel, { x, dy }, { strides, pad: 'same', dataFormat: 'NHWC', filterShape: shape.filter }) as tf.Tensor)
              : (tf.engine().runKernel(kernel, { dy, filter: w }, { strides, pad: 'same', dataFormat: 'NHWC', inputShape: xShape }) as tf.Tensor);
        cases.push({ target, kernel, batch, run, samples: [], keep: [x, w, dy] });
      }
    }
    for (let r = -1; r < reps; r++) {
      for (const c of cases) {
        throwIfAborted(opts.signal);
        await selectTarget(c.target);
        const s = await timeOnce(c.run);
        if (r >= 0) c.samples.push(s); // r = -1 warms up (XNNPACK operator creation, heap growth)
        opts.onProgress?.({ stage: 'bench-kernels', done: rows.length, info: { shape: shape.name, kernel: c.kernel, target: c.target } });
      }
    }
    for (const c of cases) {
      const ms = median(c.samples.map((s) => s.ms));
      const cpuMs = median(c.samples.map((s) => s.cpuMs));
      const flops = convFlops(shape, c.batch);
      rows.push({ target: c.target, kernel: c.kernel, shape: shape.name, batch: c.batch, ms, cpuMs, gflops: flops / ms / 1e6, gflopsCpu: flops / cpuMs / 1e6 });
    }
    tf.dispose(cases.flatMap((c) => c.keep).filter((t, i, a) => a.indexOf(t) === i));
  }
  await selectTarget('wasm');
  if (before) await tf.setBackend(before);
  return rows;
}

/**
 * Hidden activation of the ESPCN-like net.
 *
 * @example
 * ```ts
 * const rows = await benchmarkTrainingStep({ activation: 'relu' satisfies BenchActivation });
 * ```
 */
export type BenchActivation = 'tanh' | 'relu' | 'prelu';

/**
 * Options of {@link benchmarkTrainingStep}.
 * @example `await benchmarkTrainingStep({ targets: ['wasm'], activation: 'prelu', steps: 9 });`
 */
export interface TrainingStepBenchOptions extends TaskOptions {
  targets?: BenchTarget[];
  activation?: BenchActivation;
  /** Upscaling factor (default 2: the last conv predicts 3*2*2 channels). */
  scale?: number;
  /** Batch and LR patch size (default 16 of 48x48); `'cpu'` runs `slowBatch` (default 1) and is scaled up. */
  batch?: number;
  patch?: number;
  slowBatch?: number;
  /** Measured steps per target, interleaved (default 5). */
  steps?: number;
}

/**
 * ms per training step of one target.
 * @example `for (const r of rows) console.log(r.target, Math.round(r.msAtFullBatch));`
 */
export interface TrainingStepBenchRow {
  target: BenchTarget;
  activation: BenchActivation;
  batch: number;
  /** Median wall / CPU ms of one step at `batch`. */
  ms: number;
  cpuMs: number;
  /** `ms` scaled to the requested batch (equals `ms` unless the target ran a smaller batch). */
  msAtFullBatch: number;
}

/**
 * A training step of an ESPCN-like net, built the way tfjs-layers runs it: conv5x5 3->64, conv3x3 64->32,
 * conv3x3 32->3*s*s (fused conv + bias), `activation` after the first two, depth-to-space, L1 loss, Adam.
 * Weights are drawn from `seed`, so two backends start from the same net.
 *
 * @example
 * ```ts
 * const net = espcnTrainingStep({ activation: 'prelu', batch: 4, patch: 24 });
 * console.log(await net.step()); // loss
 * net.dispose();
 * ```
 */
export function espcnTrainingStep(o: { activation?: BenchActivation; scale?: number; batch?: number; patch?: number; seed?: number } = {}) {
  const s = o.scale ?? 2;
  const [b, p, act] = [o.batch ?? 16, o.patch ?? 48, o.activation ?? 'tanh'];
  const rng = new Rng(o.seed ?? 3);
  const rand = (shape: number[], std: number) => tf.tensor(Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => rng.normal() * std), shape);
  const v = {
    w1: tf.variable(rand([5, 5, 3, 64], 0.1)),
    b1: tf.variable(tf.zeros([64])),
    a1: tf.variable(tf.fill([1, 1, 64], 0.25)),
    w2: tf.variable(rand([3, 3, 64, 32], 0.05)),
    b2: tf.variable(tf.zeros([32])),
    a2: tf.variable(tf.fill([1, 1, 32], 0.25)),
    w3: tf.variable(rand([3, 3, 32, 3 * s * s], 0.05)),
    b3: tf.variable(tf.zeros([3 * s * s])),
  };
  const x = tf.tensor4d(Float32Array.from({ length: b * p * p * 3 }, () => rng.next()), [b, p, p, 3]);
  const y = tf.tensor4d(Float32Array.from({ length: b * p * s * p * s * 3 }, () => rng.next()), [b, p * s, p * s, 3]);
  const opt = tf.train.adam(1e-3);
  const layer = (h: tf.Tensor4D, w: tf.Variable, bias: tf.Variable, alpha?: tf.Variable): tf.Tensor4D => {
    if (act === 'relu' && alpha) return tf.fused.conv2d({ x: h, filter: w as tf.Tensor4D, bias, strides: 1, pad: 'same', activation: 'relu' });
    const z = tf.fused.conv2d({ x: h, filter: w as tf.Tensor4D, bias, strides: 1, pad: 'same' });
    if (!alpha) return z;
    return act === 'tanh' ? tf.tanh(z) : (tf.prelu(z, alpha as tf.Tensor) as tf.Tensor4D);
  };
  const loss = (): tf.Scalar => {
    let h = layer(x, v.w1, v.b1, v.a1);
    h = layer(h, v.w2, v.b2, v.a2);
    h = tf.depthToSpace(layer(h, v.w3, v.b3), s) as tf.Tensor4D;
    return tf.mean(tf.abs(tf.sub(h, y)));
  };
  const trainable = act === 'prelu' ? Object.values(v) : Object.values(v).filter((t) => t !== v.a1 && t !== v.a2);
  return {
    /** Runs one step; resolves to the loss before the update. */
    async step(): Promise<number> {
      const l = opt.minimize(loss, true, trainable)!;
      const value = (await l.data())[0];
      l.dispose();
      return value;
    },
    /** One step as a tensor (for timing helpers that read the result back). */
    stepTensor(): tf.Tensor {
      return opt.minimize(loss, true, trainable)!;
    },
    dispose(): void {
      opt.dispose();
      tf.dispose([x, y, ...Object.values(v)]);
    },
  };
}

/**
 * ms per training step of {@link espcnTrainingStep} on each target, steps interleaved across targets.
 *
 * @example
 * ```ts
 * const rows = await benchmarkTrainingStep({ targets: ['wasm', 'cpu'], activation: 'tanh' });
 * ```
 */
export async function benchmarkTrainingStep(opts: TrainingStepBenchOptions = {}): Promise<TrainingStepBenchRow[]> {
  const targets = opts.targets ?? ['wasm', 'cpu'];
  const batch = opts.batch ?? 16;
  const act = opts.activation ?? 'tanh';
  const nets = [];
  for (const target of targets) {
    await selectTarget(target);
    const b = target === 'cpu' ? Math.min(opts.slowBatch ?? 1, batch) : batch;
    nets.push({ target, b, net: espcnTrainingStep({ activation: act, scale: opts.scale, batch: b, patch: opts.patch }), samples: [] as Sample[] });
  }
  for (let r = -1; r < (opts.steps ?? 5); r++) {
    for (const n of nets) {
      throwIfAborted(opts.signal);
      await selectTarget(n.target);
      const s = await timeOnce(() => n.net.stepTensor());
      if (r >= 0) n.samples.push(s);
      opts.onProgress?.({ stage: 'bench-training-step', done: r + 1, total: opts.steps ?? 5, info: { target: n.target, ms: Math.round(s.ms) } });
    }
  }
  const rows: TrainingStepBenchRow[] = [];
  for (const n of nets) {
    await selectTarget(n.target);
    n.net.dispose();
    const ms = median(n.samples.map((s) => s.ms));
    rows.push({ target: n.target, activation: act, batch: n.b, ms, cpuMs: median(n.samples.map((s) => s.cpuMs)), msAtFullBatch: (ms * batch) / n.b });
  }
  await selectTarget('wasm');
  return rows;
}
