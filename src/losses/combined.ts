/**
 * The distillation objective:
 * `loss = α·pixel(S, HR) + β·output(S, T) + γ·feature(S, T) + δ·(1 − SSIM(S, HR))`.
 * Terms whose weight is 0 are not computed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import type { FeatureAdapters } from './feature-kd';
import { featureKdLoss } from './feature-kd';
import { pixelLoss, PIXEL_LOSS_KINDS, type PixelLossKind } from './pixel';
import { ssimTensor } from '../metrics/ssim-tensor';
import { rgbToY } from '../metrics/y-channel';

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

/**
 * @internal 1 where the teacher `t` is closer to `hr` than the student `s`, else 0: a constant of the gradient (the
 * mask's own gradient is zero).
 */
export function teacherCloser(s: tf.Tensor, t: tf.Tensor, hr: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...a: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const student = a[0] as tf.Tensor;
    const value = tf.tidy(() => tf.cast(tf.less(tf.abs(tf.sub(t, hr)), tf.abs(tf.sub(student, hr))), 'float32'));
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
  });
  return op(s);
}

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

/**
 * Where the pixel losses are measured, against HR and against the teacher's output (output distillation): on RGB,
 * or on BT.601 luma (Y), the channel the SR literature scores. A `detail: 'luma'` student can only move Y, so an RGB
 * loss would pull it toward the median (L1) or mean (MSE) of the three channels' errors instead of the luma error,
 * and against a teacher that also sharpens colour the chroma part of the gap is one the student cannot close; train
 * it with `'y'`.
 *
 * @example
 * ```ts
 * const w: LossWeights = { pixelKind: 'l1', pixelSpace: 'y' satisfies PixelSpace };
 * ```
 */
export type PixelSpace = 'rgb' | 'y';

/**
 * Weights and kinds of the loss terms.
 *
 * @example
 * ```ts
 * const w: LossWeights = { pixel: 1, output: 0.5, feature: 0.1, ssim: 0.1, pixelKind: 'charbonnier' };
 * ```
 */
export interface LossWeights {
  /** α, student vs HR (default 1). */
  pixel?: number;
  /** β, student vs teacher output (default 0 in `train`, 1 in `distill`). */
  output?: number;
  /** γ, student features vs teacher features (default 0). */
  feature?: number;
  /** δ, 1 − SSIM(student, HR) (default 0). */
  ssim?: number;
  /** Pixel loss against HR (default `'l1'`). */
  pixelKind?: PixelLossKind;
  /** Colour space of the pixel loss against HR and of output distillation (default `'rgb'`). */
  pixelSpace?: PixelSpace;
  /** Pixel loss against the teacher output (default `'l1'`). */
  outputKind?: PixelLossKind;
  /**
   * Teacher-bounded output distillation (default false): the output term counts only the values (pixels, or pixels and
   * channels on RGB) where the teacher is closer to HR than the student, so that it never pulls the student away from
   * HR towards a worse teacher (the bounded regression loss of Chen et al. 2017, per value). Needs HR: not for
   * unlabeled data.
   */
  outputBounded?: boolean;
}

/**
 * {@link LossWeights} with every field set.
 *
 * @example
 * ```ts
 * const w: ResolvedLossWeights = resolveLossWeights({ ssim: 0.1 });
 * ```
 */
export type ResolvedLossWeights = Required<LossWeights>;

/**
 * Validates loss weights and fills defaults.
 *
 * @example
 * ```ts
 * const w = resolveLossWeights({ ssim: 0.2 }, { output: 1 });
 * ```
 */
export function resolveLossWeights(w: LossWeights = {}, defaults: LossWeights = {}): ResolvedLossWeights {
  const r: ResolvedLossWeights = {
    pixel: w.pixel ?? defaults.pixel ?? 1,
    output: w.output ?? defaults.output ?? 0,
    feature: w.feature ?? defaults.feature ?? 0,
    ssim: w.ssim ?? defaults.ssim ?? 0,
    pixelKind: w.pixelKind ?? defaults.pixelKind ?? 'l1',
    pixelSpace: w.pixelSpace ?? defaults.pixelSpace ?? 'rgb',
    outputKind: w.outputKind ?? defaults.outputKind ?? 'l1',
    outputBounded: w.outputBounded ?? defaults.outputBounded ?? false,
  };
  if (typeof r.outputBounded !== 'boolean') throw new ConfigError(`outputBounded must be true or false, got ${String(r.outputBounded)}`);
  for (const k of ['pixel', 'output', 'feature', 'ssim'] as const) {
    if (!(typeof r[k] === 'number' && Number.isFinite(r[k]) && r[k] >= 0)) throw new ConfigError(`loss weight "${k}" must be a finite number >= 0, got ${String(r[k])}`);
  }
  for (const k of ['pixelKind', 'outputKind'] as const) {
    if (!PIXEL_LOSS_KINDS.includes(r[k])) throw new ConfigError(`${k} must be one of ${PIXEL_LOSS_KINDS.join(', ')}, got ${String(r[k])}`);
  }
  if (r.pixelSpace !== 'rgb' && r.pixelSpace !== 'y') throw new ConfigError(`pixelSpace must be 'rgb' or 'y', got ${String(r.pixelSpace)}`);
  if (r.pixel + r.output + r.feature + r.ssim === 0) throw new ConfigError('every loss weight is 0: set at least one of pixel, output, feature, ssim above 0');
  return r;
}

/**
 * What {@link combinedLoss} needs. `teacher`, `studentFeatures`/`teacherFeatures`/`adapters` are required only when
 * their weight is above 0.
 *
 * @example
 * ```ts
 * const inputs: LossInputs = { student: sr, hr, teacher: tSr };
 * ```
 */
export interface LossInputs {
  student: tf.Tensor4D;
  hr: tf.Tensor4D;
  teacher?: tf.Tensor4D;
  studentFeatures?: tf.Tensor4D[];
  teacherFeatures?: tf.Tensor4D[];
  adapters?: FeatureAdapters;
}

/**
 * Computes the weighted sum and each (unweighted) term. The caller disposes `total` and `parts`.
 *
 * @example
 * ```ts
 * const { total, parts } = combinedLoss({ student: sr, hr, teacher: tSr }, resolveLossWeights({ output: 1 }));
 * ```
 */
export function combinedLoss(x: LossInputs, w: ResolvedLossWeights): { total: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const parts: Record<string, tf.Scalar> = {};
  const total = tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    const add = (name: string, weight: number, f: () => tf.Scalar) => {
      if (weight <= 0) return;
      const v = f();
      parts[name] = tf.keep(v);
      terms.push(tf.mul(v, weight) as tf.Scalar);
    };
    add('pixel', w.pixel, () => (w.pixelSpace === 'y' ? pixelLoss(w.pixelKind, rgbToY(x.student), rgbToY(x.hr)) : pixelLoss(w.pixelKind, x.student, x.hr)));
    add('output', w.output, () => {
      if (!x.teacher) throw new ConfigError('the output distillation term (weight "output" > 0) needs teacher predictions');
      const [s, t] = w.pixelSpace === 'y' ? [rgbToY(x.student), rgbToY(x.teacher)] : [x.student, x.teacher];
      if (!w.outputBounded) return outputKdLoss(s, t, w.outputKind);
      const m = teacherCloser(s, t, w.pixelSpace === 'y' ? rgbToY(x.hr) : x.hr);
      return outputKdLoss(tf.mul(s, m), tf.mul(t, m), w.outputKind);
    });
    add('feature', w.feature, () => {
      if (!x.studentFeatures || !x.teacherFeatures || !x.adapters) throw new ConfigError('the feature distillation term (weight "feature" > 0) needs student and teacher features');
      return featureKdLoss(x.studentFeatures, x.teacherFeatures, x.adapters);
    });
    add('ssim', w.ssim, () => ssimLoss(x.student, x.hr));
    return tf.addN(terms) as tf.Scalar;
  });
  return { total, parts };
}
