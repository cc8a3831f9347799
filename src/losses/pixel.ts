/** Pixel losses between two same-shape tensors (prediction, target), each a mean over every element. */
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
export type PixelLossKind = 'l1' | 'mse' | 'charbonnier';

/**
 * Every {@link PixelLossKind}.
 *
 * @example
 * ```ts
 * PIXEL_LOSS_KINDS.includes('l1'); // true
 * ```
 */
export const PIXEL_LOSS_KINDS: readonly PixelLossKind[] = ['l1', 'mse', 'charbonnier'];

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
    default:
      throw new ConfigError(`unknown pixel loss "${String(kind)}": use ${PIXEL_LOSS_KINDS.join(', ')}`);
  }
}
