import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import type { PatchBatch, PatchDataset } from '../data/types';
import { resolveLossWeights } from '../losses/combined';
import { findModelInfo } from '../models/metadata';
import { runTraining, type TrainResult } from './loop';
import { resolveTrainOptions, type TrainOptions } from './options';
import { isLayersModel } from './teacher';

/** Upscaling factor of a run: the dataset's, else the model's metadata. */
export function runScale(data: PatchDataset | AsyncIterable<PatchBatch>, model: tfl.LayersModel): number {
  const s = (data as PatchDataset).scale ?? findModelInfo(model)?.scale;
  if (!s) throw new ConfigError('cannot tell the scale: pass a PatchDataset (it knows its scale) or a model built by buildStudent');
  const m = findModelInfo(model)?.scale;
  if (m !== undefined && m !== s) throw new ConfigError(`the data is for scale ${s} but the model is x${m}: use the same --scale for both`);
  return s;
}

/**
 * Options of {@link train}: the student, its data, and the training options. {@link DistillOptions} has the same
 * shape plus a teacher, so a `train` call becomes a `distill` call by adding `teacher`.
 *
 * @example
 * ```ts
 * const opts: TrainStudentOptions = { student, data, schedule: { steps: 5000 }, validation: { folder: '../shared/data/Set5' }, out: 'runs/espcn-x2' };
 * await train(opts);
 * ```
 */
export interface TrainStudentOptions extends TrainOptions {
  /** The model to train, e.g. from `buildStudent`. */
  student: tfl.LayersModel;
  /** Batches of `(lr, hr)` pairs: a {@link PatchDataset} (it knows its scale) or any async iterable of batches. */
  data: PatchDataset | AsyncIterable<PatchBatch>;
}

/**
 * Trains a student on `(lr, hr)` batches with the pixel (and optionally SSIM) loss: Adam, warmup + cosine/step
 * schedule, gradient clipping, EMA, validation, atomic best/last checkpoints, exact resume, JSONL log, abort and a NaN
 * guard. The options are grouped as in a run config: `schedule`, `loss`, `validation`, `checkpoint` (see
 * {@link TrainOptions}; the earlier flat keys such as `steps` and `valEvery` still work and are deprecated). For
 * distillation from a teacher use {@link distill}, which takes the same options plus `teacher`.
 *
 * @throws ConfigError on bad options; NanLossError if the loss diverges (the last good checkpoint is kept);
 *   AbortError when `signal` fires (after saving `last.ckpt`).
 * @example
 * ```ts
 * const student = buildStudent({ arch: 'espcn', scale: 2, seed: 1 });
 * const data = await openDataset(['../shared/data/T91'], { scale: 2, batchSize: 16, seed: 1 });
 * const r = await train({
 *   student,
 *   data,
 *   schedule: { steps: 5000, lr: 1e-3, warmup: 100, ema: 0.999 },
 *   loss: { pixel: 1, ssim: 0.1 },
 *   validation: { folder: '../shared/data/Set5', every: 500 },
 *   checkpoint: { every: 500 },
 *   out: 'runs/espcn-x2',
 *   resume: true,
 * });
 * console.log(r.best);
 * ```
 */
export async function train(opts: TrainStudentOptions): Promise<TrainResult>;
/**
 * The earlier form of {@link train}, with the student and the data as separate arguments.
 *
 * @deprecated Pass one object, `train({ student: model, data, ...opts })`, the shape {@link distill} takes too.
 * @example
 * ```ts
 * await train(student, data, { schedule: { steps: 5000 } }); // same as train({ student, data, schedule: { steps: 5000 } })
 * ```
 */
export async function train(model: tfl.LayersModel, data: PatchDataset | AsyncIterable<PatchBatch>, opts: TrainOptions): Promise<TrainResult>;
export async function train(
  first: TrainStudentOptions | tfl.LayersModel,
  data?: PatchDataset | AsyncIterable<PatchBatch>,
  opts?: TrainOptions,
): Promise<TrainResult> {
  const o: TrainStudentOptions = isLayersModel(first) ? { ...(opts as TrainOptions), student: first, data: data! } : (first ?? ({} as TrainStudentOptions));
  const { student, data: batches } = o;
  if (!isLayersModel(student)) throw new ConfigError('train needs a student layers model (see buildStudent): train({ student, data, steps })');
  if (!batches) throw new ConfigError('train needs data (see openDataset / syntheticDataset): train({ student, data, steps })');
  const resolved = resolveTrainOptions(o);
  const weights = resolveLossWeights(o.loss);
  if (weights.feature > 0) throw new ConfigError('train() has no teacher: use distill() for the feature distillation weight');
  if (weights.output > 0 && !(batches as Partial<PatchDataset>).teacher) {
    throw new ConfigError('train() has no teacher: use distill() for the output distillation weight, or data whose batches carry targets (privileged: \'wiener-oracle\')');
  }
  return runTraining({ student, forward: student, data: batches, scale: runScale(batches, student), weights, kind: 'train' }, resolved);
}
