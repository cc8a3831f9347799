/**
 * Kernel benchmarks for training on TF.js backends: GFLOP/s of the three convolution kernels a conv net
 * trains with (forward `Conv2D`, `Conv2DBackpropFilter`, `Conv2DBackpropInput`) on typical
 * super-resolution shapes (`training-step.ts` times a whole training step).
 *
 * The machine may be shared, so every figure is a median over repetitions that are interleaved across the
 * backends being compared, and each reports process CPU time next to wall time (CPU time is what the
 * kernel itself costs when other processes steal the cores).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../core/rng';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { median, selectTarget, timeOnce, type BenchTarget, type Sample } from './timing';


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
