import * as tf from '@tensorflow/tfjs-core';
import { pixelLoss, type PixelLossKind } from './pixel';

/**
 * Output distillation: the student's prediction against the teacher's, a fixed target (compute it outside the
 * gradient tape). Same kinds as the pixel loss, L1 by default.
 *
 * @example
 * ```ts
 * const kd = outputKdLoss(studentSr, teacherSr);
 * ```
 */
export function outputKdLoss(student: tf.Tensor, teacher: tf.Tensor, kind: PixelLossKind = 'l1'): tf.Scalar {
  return tf.tidy(() => pixelLoss(kind, student, teacher));
}
