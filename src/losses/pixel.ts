/**
 * Pixel losses between two same-shape tensors (prediction, target): means over every element, except `psnr`, a mean
 * over the batch of each sample's log mean squared error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';

/**
 * Names of the pixel losses.
 *
 * @example
 * ```ts
 * const kind: PixelLossKind = 'charbonnier';
 * ```
 */
export type PixelLossKind = 'l1' | 'mse' | 'charbonnier' | 'psnr';

/**
 * Every {@link PixelLossKind}.
 *
 * @example
 * ```ts
 * PIXEL_LOSS_KINDS.includes('l1'); // true
 * ```
 */
export const PIXEL_LOSS_KINDS: readonly PixelLossKind[] = ['l1', 'mse', 'charbonnier', 'psnr'];

function check(a: tf.Tensor, b: tf.Tensor, what: string): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new ShapeError(`${what}: shapes differ, [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
}

/**
 * Mean absolute error.
 *
 * @example
 * ```ts
 * const loss = l1Loss(sr, hr); // tf.Scalar
 * ```
 */
export function l1Loss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  check(a, b, 'l1Loss');
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar);
}

/**
 * Mean squared error.
 *
 * @example
 * ```ts
 * const loss = mseLoss(sr, hr);
 * ```
 */
export function mseLoss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  check(a, b, 'mseLoss');
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar);
}

/**
 * Charbonnier loss `mean(sqrt((a - b)² + ε²))`, a smooth L1 (LapSRN).
 *
 * @example
 * ```ts
 * const loss = charbonnierLoss(sr, hr, 1e-3);
 * ```
 */
export function charbonnierLoss(a: tf.Tensor, b: tf.Tensor, eps = 1e-3): tf.Scalar {
  check(a, b, 'charbonnierLoss');
  return tf.tidy(() => tf.mean(tf.sqrt(tf.add(tf.squaredDifference(a, b), eps * eps))) as tf.Scalar);
}

/**
 * Floor of {@link psnrLoss}'s per-sample mean squared error (on the [0, 1] scale): 10⁻⁵ is 50 dB, past which a sample
 * adds no more. Without it a flat, almost clean patch would weigh without bound.
 */
const PSNR_LOSS_FLOOR = 1e-5;

/**
 * Negative mean PSNR of a batch: `mean_n 10·log10(mse_n + floor)` over the samples n of `[N, …]` tensors on the [0, 1]
 * scale (the "PSNR loss" of HINet, Chen et al. 2021). The benchmarks average PSNR over images; a loss averaged over
 * pixels (L1, MSE) instead lets the samples with the largest errors (strong blur, busy texture) dominate, and a
 * mildly degraded sample, whose dB depend on small errors, gets little of the training signal. Here every sample
 * counts by its dB: halving any one sample's squared error lowers the loss by the same amount.
 *
 * @example
 * ```ts
 * const loss = psnrLoss(sr, hr); // −(mean PSNR over the batch) in dB, floored at 50 dB per sample
 * ```
 */
export function psnrLoss(a: tf.Tensor, b: tf.Tensor, floor = PSNR_LOSS_FLOOR): tf.Scalar {
  check(a, b, 'psnrLoss');
  if (a.rank < 2) throw new ShapeError(`psnrLoss: expected a batch [N, …], got shape [${a.shape.join(', ')}]`);
  return tf.tidy(() => {
    const axes = Array.from({ length: a.rank - 1 }, (_, i) => i + 1);
    const mse = tf.mean(tf.squaredDifference(a, b), axes);
    return tf.mul(tf.mean(tf.log(tf.add(mse, floor))), 10 / Math.LN10) as tf.Scalar;
  });
}

/**
 * The pixel loss called `kind`.
 *
 * @example
 * ```ts
 * const loss = pixelLoss('charbonnier', sr, hr);
 * ```
 */
export function pixelLoss(kind: PixelLossKind, a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  switch (kind) {
    case 'l1':
      return l1Loss(a, b);
    case 'mse':
      return mseLoss(a, b);
    case 'charbonnier':
      return charbonnierLoss(a, b);
    case 'psnr':
      return psnrLoss(a, b);
    default:
      throw new ConfigError(`unknown pixel loss "${String(kind)}": use ${PIXEL_LOSS_KINDS.join(', ')}`);
  }
}
