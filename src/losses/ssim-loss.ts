import * as tf from '@tensorflow/tfjs-core';
import { ssimTensor } from '../metrics/ssim-tensor';

/**
 * Structural loss `1 − SSIM(a, b)` (11×11 Gaussian window, mean over channels), differentiable on every backend.
 * Patches must be at least 11×11.
 *
 * @example
 * ```ts
 * const loss = ssimLoss(sr, hr); // 0 for identical images
 * ```
 */
export function ssimLoss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sub(1, ssimTensor(a, b)) as tf.Scalar);
}
