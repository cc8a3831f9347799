/**
 * Geometric self-ensemble ("x8" in Lim et al., "Enhanced Deep Residual Networks for Single Image
 * Super-Resolution", CVPRW 2017): run a model on the input flipped and transposed in up to 8 ways (the dihedral
 * group), undo each transform on the output, and average. SR nets are not exactly equivariant to these
 * transforms, so the average is a better prediction (EDSR: +0.1 to +0.2 dB) at `n` times the cost. Used for
 * stronger teacher targets in distillation, where the teacher runs once per cached patch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';

/**
 * Number of transforms of a self-ensemble: 1 (off), 2 (+ horizontal flip), 4 (+ vertical flips), 8 (+ transposes).
 *
 * @example
 * ```ts
 * const n: EnsembleSize = 8;
 * ```
 */
export type EnsembleSize = 1 | 2 | 4 | 8;

/** @internal Transform t of the dihedral group on NHWC: bit 0 flips W, bit 1 flips H, bit 2 swaps H and W (applied last). */
export function forward(x: tf.Tensor4D, t: number): tf.Tensor4D {
  let y = x;
  if (t & 1) y = tf.reverse(y, 2);
  if (t & 2) y = tf.reverse(y, 1);
  if (t & 4) y = tf.transpose(y, [0, 2, 1, 3]);
  return y;
}

/** @internal Inverse of {@link forward}: the same involutions in reverse order. */
export function inverse(y: tf.Tensor4D, t: number): tf.Tensor4D {
  let x = y;
  if (t & 4) x = tf.transpose(x, [0, 2, 1, 3]);
  if (t & 2) x = tf.reverse(x, 1);
  if (t & 1) x = tf.reverse(x, 2);
  return x;
}

/** @internal Throws ConfigError unless `n` is 1, 2, 4 or 8; returns it typed. */
export function checkEnsembleSize(n: number): EnsembleSize {
  if (n !== 1 && n !== 2 && n !== 4 && n !== 8) throw new ConfigError(`self-ensemble size must be 1, 2, 4 or 8, got ${n}`);
  return n;
}

/**
 * Averages `run` over `n` flips/transposes of `x` (each output transformed back). `run` must return a new tensor
 * (it is disposed here); `x` is not disposed. With `n = 1` this is `run(x)`.
 *
 * @throws ConfigError for an `n` other than 1, 2, 4, 8.
 * @example
 * ```ts
 * const sr = await selfEnsemble((x) => teacher.run(x), lr, 8);
 * ```
 */
export async function selfEnsemble(run: (x: tf.Tensor4D) => Promise<tf.Tensor4D> | tf.Tensor4D, x: tf.Tensor4D, n: EnsembleSize = 8): Promise<tf.Tensor4D> {
  checkEnsembleSize(n);
  if (n === 1) return run(x);
  let sum: tf.Tensor4D | undefined;
  for (let t = 0; t < n; t++) {
    const xt = tf.tidy(() => forward(x, t));
    const yt = await run(xt);
    if (xt !== x) xt.dispose();
    const back = tf.tidy(() => inverse(yt, t));
    if (back !== yt) yt.dispose();
    if (!sum) sum = back;
    else {
      const next = tf.add(sum, back) as tf.Tensor4D;
      tf.dispose([sum, back]);
      sum = next;
    }
  }
  const mean = tf.div(sum!, n) as tf.Tensor4D;
  sum!.dispose();
  return mean;
}
