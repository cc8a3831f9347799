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

/**
 * @internal What a step reports. `applied` is false when the loss or the gradient norm was not finite, or when the
 * norm was above `maxGradNorm` (`skipped`): nothing changed then.
 */
export interface StepOutcome {
  loss: number;
  gradNorm: number;
  /** The unweighted loss terms by name. */
  parts: Record<string, number>;
  applied: boolean;
  /** True when the step was skipped for a gradient norm above `maxGradNorm`. */
  skipped?: boolean;
}

/**
 * @internal One training step on `batch` (not disposed) with learning rate `lr`: gradients of the combined loss, their
 * global norm, clipping to `clip` (0 = off) as Adam's gradient scale, the Adam update and the EMA update. With a
 * non-finite loss or norm, or a norm above `maxGradNorm` (a spike: see `schedule.skipSpikes`), it changes nothing and
 * returns `applied: false`.
 */
export function trainingStep(p: StepParts, batch: PatchBatch, targets: { output?: tf.Tensor4D; features?: tf.Tensor4D[] }, lr: number, clip: number, maxGradNorm = Infinity): StepOutcome {
  let lossParts: Record<string, tf.Scalar> = {};
  const { value, grads, norm } = tf.tidy(() => {
    const g = tf.variableGrads(() => {
      const out = p.forward.apply(batch.lr, { training: true }) as tf.Tensor4D | tf.Tensor4D[];
      const [sr, ...feats] = Array.isArray(out) ? out : [out];
      const r = combinedLoss(
        { student: sr, hr: batch.hr, teacher: batch.teacher ?? targets.output, studentFeatures: feats, teacherFeatures: batch.teacherFeatures ?? targets.features, adapters: p.adapters },
        p.weights,
      );
      lossParts = r.parts;
      return r.total;
    }, p.vars);
    const list = p.vars.map((v) => g.grads[v.name]);
    return { value: g.value, grads: list, norm: globalNorm(list) };
  });
  const names = Object.keys(lossParts);
  const nums = tf.tidy(() => tf.stack([value, norm, ...names.map((k) => lossParts[k])]).dataSync());
  tf.dispose([value, norm, ...Object.values(lossParts)]);
  const [loss, gradNorm] = [nums[0], nums[1]];
  const parts: Record<string, number> = {};
  names.forEach((k, i) => (parts[k] = nums[2 + i]));
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    tf.dispose(grads);
    return { loss, gradNorm, parts, applied: false };
  }
  if (gradNorm > maxGradNorm) {
    tf.dispose(grads);
    return { loss, gradNorm, parts, applied: false, skipped: true };
  }
  const factor = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
  p.adam.apply(grads, lr, factor);
  tf.dispose(grads);
  p.ema?.update();
  return { loss, gradNorm, parts, applied: true };
}
