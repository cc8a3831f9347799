/**
 * One optimisation step of the training loop (`train` / `distill`), on its own so that benchmarks and profiles run
 * exactly the step the loop runs: forward and backward on the combined loss, global gradient norm, clipping, Adam and
 * the weight EMA.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PatchBatch } from '../data/types';
import { combinedLoss, type ResolvedLossWeights } from '../losses/combined';
import type { FeatureAdapters } from '../losses/feature-kd';
import { globalNorm, type Adam } from './adam';
import type { WeightEma } from './ema';

/** @internal What a step updates and how it measures the loss. */
export interface StepParts {
  /** The student, or its tapped multi-output view `[sr, ...features]` for feature KD. */
  forward: tfl.LayersModel;
  /** The trained variables, in Adam's order. */
  vars: tf.Variable[];
  adam: Adam;
  ema?: WeightEma;
  weights: ResolvedLossWeights;
  adapters?: FeatureAdapters;
}

/** @internal What a step reports. `applied` is false when the loss or the gradient norm was not finite (nothing changed). */
export interface StepOutcome {
  loss: number;
  gradNorm: number;
  /** The unweighted loss terms by name. */
  parts: Record<string, number>;
  applied: boolean;
}

/**
 * @internal Gradients of the combined loss on `batch` with respect to `p.vars` (in that order), with the loss and its
 * unweighted terms as scalars. Every returned tensor is the caller's to dispose.
 */
export function lossGradients(
  p: Pick<StepParts, 'forward' | 'vars' | 'weights' | 'adapters'>,
  batch: PatchBatch,
  targets: { output?: tf.Tensor4D; features?: tf.Tensor4D[] },
): { value: tf.Scalar; grads: tf.Tensor[]; parts: Record<string, tf.Scalar> } {
  let parts: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.tidy(() => {
    const g = tf.variableGrads(() => {
      const out = p.forward.apply(batch.lr, { training: true }) as tf.Tensor4D | tf.Tensor4D[];
      const [sr, ...feats] = Array.isArray(out) ? out : [out];
      const r = combinedLoss(
        { student: sr, hr: batch.hr, teacher: batch.teacher ?? targets.output, studentFeatures: feats, teacherFeatures: batch.teacherFeatures ?? targets.features, adapters: p.adapters },
        p.weights,
      );
      parts = r.parts;
      return r.total;
    }, p.vars);
    return { value: g.value, grads: p.vars.map((v) => g.grads[v.name]) };
  });
  return { value, grads, parts };
}

/**
 * @internal The update of a step from its gradients (disposed here) and their global norm: with a non-finite loss or
 * norm nothing changes (`applied: false`); otherwise clipping to `clip` (0 = off) as Adam's gradient scale, the Adam
 * update and the EMA update.
 */
export function applyGradients(p: StepParts, grads: tf.Tensor[], loss: number, gradNorm: number, parts: Record<string, number>, lr: number, clip: number): StepOutcome {
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    tf.dispose(grads);
    return { loss, gradNorm, parts, applied: false };
  }
  const factor = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
  p.adam.apply(grads, lr, factor);
  tf.dispose(grads);
  p.ema?.update();
  return { loss, gradNorm, parts, applied: true };
}

/**
 * @internal One training step on `batch` (not disposed) with learning rate `lr`: gradients of the combined loss, their
 * global norm, clipping to `clip` (0 = off) as Adam's gradient scale, the Adam update and the EMA update. With a
 * non-finite loss or norm it changes nothing and returns `applied: false`.
 */
export function trainingStep(p: StepParts, batch: PatchBatch, targets: { output?: tf.Tensor4D; features?: tf.Tensor4D[] }, lr: number, clip: number): StepOutcome {
  const { value, grads, parts: lossParts } = lossGradients(p, batch, targets);
  const norm = globalNorm(grads);
  const names = Object.keys(lossParts);
  const nums = tf.tidy(() => tf.stack([value, norm, ...names.map((k) => lossParts[k])]).dataSync());
  tf.dispose([value, norm, ...Object.values(lossParts)]);
  const parts: Record<string, number> = {};
  names.forEach((k, i) => (parts[k] = nums[2 + i]));
  return applyGradients(p, grads, nums[0], nums[1], parts, lr, clip);
}
