/**
 * Training: the `train` and `distill` loops and their options, the losses (pixel, SSIM, output and feature
 * distillation), learning-rate schedules, the optimizer and weight EMA, checkpoints, validation, the teacher and its
 * prediction cache.
 *
 * @example
 * ```ts
 * import { distill, train } from 'sharpen-kd/train';
 * await train({ student, data, schedule: { steps: 5000 }, out: 'runs/x4' });
 * await distill({ student, teacher, data, schedule: { steps: 20_000 }, cacheDir: 'runs/x4/cache', out: 'runs/x4-kd' });
 * ```
 *
 * @module sharpen-kd/train
 */
export { train } from '../train/train';
export type { TrainStudentOptions } from '../train/train';
export { distill } from '../train/distill';
export type { DistillOptions } from '../train/distill';
export { normalizeTrainOptions, resolveTrainOptions } from '../train/options';
export type {
  TrainOptions,
  TrainScheduleOptions,
  TrainValidationOptions,
  TrainCheckpointOptions,
  NormalizedTrainOptions,
  ResolvedTrainOptions,
  CheckpointPrecision,
} from '../train/options';
export type { TrainResult } from '../train/loop';
export { prepareTeacher, runTeacher, teacherIdentity } from '../train/teacher';
export type { Teacher, TeacherFn, TeacherRuntime, PreparedTeacher, PrepareTeacherOptions, TeacherOutputs } from '../train/teacher';
export { ensureTeacherCache, loadTeacherCache } from '../train/teacher-cache';
export type { TeacherCacheOptions, TeacherCacheIndex, TeacherCacheFeature, LoadedTeacherCache, LoadTeacherCacheOptions, CacheDtype } from '../train/teacher-cache';
export { openTeacherCache } from '../train/cached-dataset';
export type { CachedDatasetOptions } from '../train/cached-dataset';
export { selfEnsemble } from '../train/self-ensemble';
export type { EnsembleSize } from '../train/self-ensemble';
export { loadValidationSet, evaluateModel, EVAL_X1_DEGRADATION } from '../train/validate';
export type { ValidationSet, ValidationImage, ValidationOptions, ValidationResult } from '../train/validate';
export { learningRateAt, checkSchedule } from '../train/schedule';
export type { ScheduleKind, ScheduleOptions } from '../train/schedule';
export { Adam } from '../train/adam';
export type { AdamOptions } from '../train/adam';
export { WeightEma } from '../train/ema';
export { saveCheckpoint, loadCheckpoint } from '../train/checkpoint';
export type { Checkpoint, CheckpointTensor, CheckpointStorage } from '../train/checkpoint';
export { l1Loss, mseLoss, charbonnierLoss, psnrLoss, pixelLoss, PIXEL_LOSS_KINDS } from '../losses/pixel';
export type { PixelLossKind } from '../losses/pixel';
export { ssimLoss } from '../losses/combined';
export { outputKdLoss } from '../losses/combined';
export { FeatureAdapters, createFeatureAdapters, featureKdLoss } from '../losses/feature-kd';
export { combinedLoss, resolveLossWeights } from '../losses/combined';
export type { LossWeights, ResolvedLossWeights, LossInputs, PixelSpace } from '../losses/combined';
