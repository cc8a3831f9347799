/**
 * Training-step benchmark: ms per step of an ESPCN-like net (forward + backward + Adam) on each target,
 * interleaved, with process CPU time next to wall time (see `kernels.ts` for the per-kernel figures).
 */
import * as tf from '@tensorflow/tfjs-core';
import '../backends/wasm-kernels/depth-to-space-grad';
import '../core/register-gradients';
import { Rng } from '../core/rng';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { median, selectTarget, timeOnce, type BenchTarget, type Sample } from './timing';

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
  // tidy disposes the initial values (a variable holds its own copy).
  const v = tf.tidy(() => ({
    w1: tf.variable(rand([5, 5, 3, 64], 0.1)),
    b1: tf.variable(tf.zeros([64])),
    a1: tf.variable(tf.fill([1, 1, 64], 0.25)),
    w2: tf.variable(rand([3, 3, 64, 32], 0.05)),
    b2: tf.variable(tf.zeros([32])),
    a2: tf.variable(tf.fill([1, 1, 32], 0.25)),
    w3: tf.variable(rand([3, 3, 32, 3 * s * s], 0.05)),
    b3: tf.variable(tf.zeros([3 * s * s])),
  }));
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
