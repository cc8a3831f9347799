import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import type { PatchBatch, PatchDataset } from '../data/types';
import { resolveLossWeights } from '../losses/combined';
import { findModelInfo } from '../models/metadata';
import { runTraining, type TrainResult } from './loop';
import { resolveTrainOptions, type TrainOptions } from './options';

/** Upscaling factor of a run: the dataset's, else the model's metadata. */
export function runScale(data: PatchDataset | AsyncIterable<PatchBatch>, model: tfl.LayersModel): number {
  const s = (data as PatchDataset).scale ?? findModelInfo(model)?.scale;
  if (!s) throw new ConfigError('cannot tell the scale: pass a PatchDataset (it knows its scale) or a model built by buildStudent');
  const m = findModelInfo(model)?.scale;
  if (m !== undefined && m !== s) throw new ConfigError(`the data is for scale ${s} but the model is x${m}: use the same --scale for both`);
  return s;
}

/**
 * Trains a model on `(lr, hr)` batches with the pixel (and optionally SSIM) loss: Adam, warmup + cosine/step
 * schedule, gradient clipping, EMA, validation, atomic best/last checkpoints, exact resume, JSONL log, abort and a NaN
 * guard. See {@link TrainOptions}. For distillation from a teacher use `distill`.
 *
 * @throws ConfigError on bad options; NanLossError if the loss diverges (the last good checkpoint is kept);
 *   AbortError when `signal` fires (after saving `last.ckpt`).
 * @example
 * ```ts
 * const student = buildStudent({ arch: 'espcn', scale: 2, seed: 1 });
 * const data = await openDataset(['../shared/data/T91'], { scale: 2, batchSize: 16, seed: 1 });
 * const r = await train(student, data, { steps: 5000, val: '../shared/data/Set5', out: 'runs/espcn-x2', resume: true });
 * console.log(r.best);
 * ```
 */
export async function train(model: tfl.LayersModel, data: PatchDataset | AsyncIterable<PatchBatch>, opts: TrainOptions): Promise<TrainResult> {
  const o = resolveTrainOptions(opts);
  const weights = resolveLossWeights(opts.loss);
  if (weights.output > 0 || weights.feature > 0) throw new ConfigError('train() has no teacher: use distill() for the output/feature distillation weights');
  return runTraining({ student: model, forward: model, data, scale: runScale(data, model), weights, kind: 'train' }, o);
}
