/**
 * `distill`: trains a student on `α·pixel + β·output-KD + γ·feature-KD + δ·(1 − SSIM)`.
 *
 * With `cacheDir`, the teacher runs once over `cacheSize` patches and each step reads its stored predictions, so a
 * step costs only the student. With feature KD too, the same pass stores the teacher's tap features (float16, large:
 * see `teacher-cache.ts`), and the cached batches are then not flipped/rotated (features are not equivariant: see
 * `cached-dataset.ts`). Feature KD without `cacheDir` runs the tapped teacher on every batch (inference only, TF.js).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, ShapeError } from '../errors';
import type { PatchBatch, PatchDataset } from '../data/types';
import { resolveLossWeights } from '../losses/combined';
import { createFeatureAdapters, type FeatureAdapters } from '../losses/feature-kd';
import { featureTaps, tapModel } from '../models/taps';
import { openTeacherCache } from './cached-dataset';
import { runTraining, type TrainResult } from './loop';
import { resolveTrainOptions } from './options';
import { checkEnsembleSize, selfEnsemble, type EnsembleSize } from './self-ensemble';
import { ensureTeacherCache } from './teacher-cache';
import { isLayersModel, prepareTeacher, type PreparedTeacher, type Teacher, type TeacherRuntime } from './teacher';
import { runScale, type TrainStudentOptions } from './train';

/**
 * Options of {@link distill}: the options of {@link train} (student, data, training options) plus the teacher and how
 * its targets are made.
 *
 * @example
 * ```ts
 * const opts: DistillOptions = { teacher, student, data, schedule: { steps: 20_000 }, loss: { pixel: 1, output: 1 }, cacheDir: 'runs/x2/cache' };
 * ```
 */
export interface DistillOptions extends TrainStudentOptions {
  /** The teacher: a layers model (e.g. `buildTeacher`, `loadPretrainedTeacher`) or a function `lr => sr`. */
  teacher: Teacher;
  /**
   * Cache the teacher's predictions for a fixed patch set in this folder (needs a PatchDataset); with a feature weight
   * > 0, its tap features too (then the cached batches are not flipped/rotated).
   */
  cacheDir?: string;
  /** Patches in the cache (default 2048). */
  cacheSize?: number;
  /**
   * The patch stream the cache is built from (default: `data`). Give it patches `2·c` pixels larger than `data`'s
   * (same scale, batch size and seed) and the teacher sees `c` LR pixels of context on every side of each cached
   * patch: the cache keeps the centres, `data.patchSize` wide, so the teacher's targets are made as they would be
   * inside a whole image rather than next to a patch border. `distill` does not dispose it.
   */
  cacheData?: PatchDataset;
  /**
   * Flip and rotate the cached batches as they are replayed (default true; false, and only false, with a feature
   * weight > 0, since features are not equivariant). False replays every patch as the cache stores it, which makes an
   * output-KD run the exact control of a feature-KD run on the same cache.
   */
  cacheAugment?: boolean;
  /** Identity of a function teacher, for the cache key. */
  teacherId?: string;
  /**
   * Feature KD from this model instead of `teacher` (default: `teacher`): for example a teaching assistant, a wider
   * student of the student's own family, whose features a small student can follow where a transformer's it cannot,
   * while the output targets still come from `teacher` (cached or live). It runs on every batch (TF.js) and its
   * features are never cached, so cached batches keep their flips.
   */
  featureTeacher?: tfl.LayersModel;
  /** Feature KD: student / teacher layer names to tap (default: each model's default taps). */
  studentTaps?: string[];
  teacherTaps?: string[];
  /** Engine for a layers-model teacher's outputs (default `'auto'`: ONNX Runtime when installed, else TF.js). */
  teacherRuntime?: TeacherRuntime;
  /**
   * Geometric self-ensemble of the teacher's output targets (default 1 = off; 8 = average over all flips and
   * transposes: better targets at 8x the teacher's cost, paid once per patch with `cacheDir`).
   */
  teacherEnsemble?: EnsembleSize;
}

function isPatchDataset(d: unknown): d is PatchDataset {
  return typeof (d as PatchDataset).nextArrays === 'function';
}

/**
 * Distils a teacher into a student. Same options as {@link train} plus `teacher`, and the same loop and outputs
 * (checkpoints, resume, validation, log); the loss defaults to `pixel: 1, output: 1`.
 *
 * @throws ConfigError on bad options (e.g. feature KD with a function teacher); NanLossError; AbortError.
 * @example
 * ```ts
 * const teacher = buildTeacher({ scale: 2 });
 * const student = buildStudent({ arch: 'compact', scale: 2, seed: 1 });
 * const data = await openDataset(['../shared/data/T91', '../shared/data/BSDS200'], { scale: 2, seed: 1 });
 * await distill({
 *   teacher,
 *   student,
 *   data,
 *   schedule: { steps: 20_000, ema: 0.999 },
 *   loss: { pixel: 1, output: 1 },
 *   validation: { folder: '../shared/data/Set5' },
 *   cacheDir: 'runs/x2/cache',
 *   out: 'runs/x2',
 * });
 * ```
 */
export async function distill(opts: DistillOptions): Promise<TrainResult> {
  const { teacher, student, data } = opts ?? ({} as DistillOptions);
  if (!teacher) throw new ConfigError('distill needs a teacher (a layers model or a function lr => sr)');
  if (!isLayersModel(student)) throw new ConfigError('distill needs a student layers model (see buildStudent)');
  if (!data) throw new ConfigError('distill needs data (see openDataset / syntheticDataset)');
  const o = resolveTrainOptions(opts);
  const weights = resolveLossWeights(opts.loss, { output: 1 });
  const scale = runScale(data, student);
  const ensemble = checkEnsembleSize(opts.teacherEnsemble ?? 1);
  if (opts.cacheAugment !== undefined && typeof opts.cacheAugment !== 'boolean') throw new ConfigError(`cacheAugment must be true or false, got ${JSON.stringify(opts.cacheAugment)}`);
  const featureTeacher = opts.featureTeacher;
  if (featureTeacher !== undefined && !isLayersModel(featureTeacher)) throw new ConfigError('featureTeacher must be a TF.js layers model (its intermediate features are tapped)');
  if (featureTeacher !== undefined && !(weights.feature > 0)) throw new ConfigError('featureTeacher is the source of feature distillation: give the feature term a weight > 0 (loss.feature, --loss-feature)');
  if (ensemble > 1 && weights.feature > 0 && !featureTeacher) throw new ConfigError('teacherEnsemble applies to output targets; it cannot be combined with feature distillation from the same teacher');

  let forward = student;
  let teacherTapped: tfl.LayersModel | undefined;
  let teacherTaps: string[] | undefined;
  let adapters: FeatureAdapters | undefined;
  // Features from the feature teacher when there is one (live, never cached), else from the teacher.
  const featureSource = featureTeacher ?? teacher;
  if (weights.feature > 0) {
    if (!isLayersModel(featureSource)) throw new ConfigError('feature distillation needs a layers-model teacher (its intermediate features); set the feature weight to 0 for a function teacher, or give a featureTeacher');
    forward = tapModel(student, opts.studentTaps);
    teacherTaps = opts.teacherTaps ?? featureTaps(featureSource);
    teacherTapped = tapModel(featureSource, teacherTaps);
    const channels = (m: tfl.LayersModel) => m.outputs.slice(1).map((t) => t.shape[3] as number);
    adapters = createFeatureAdapters(channels(forward), channels(teacherTapped), { seed: o.seed });
  }

  let ownData: PatchDataset | undefined;
  let live: PreparedTeacher | undefined;
  try {
    if (isPatchDataset(data) && data.unlabeled && !(opts.cacheDir && weights.output > 0)) {
      throw new ConfigError('unlabeled data (images with no HR) need a teacher cache: pass cacheDir (--cache-dir) and an output weight > 0; the teacher\'s predictions are the targets');
    }
    if (isPatchDataset(data) && data.unlabeled && weights.outputBounded) {
      throw new ConfigError('outputBounded (--output-bounded) compares the teacher with HR: unlabeled data have none');
    }
    let trainData = data;
    if (opts.cacheDir && (weights.output > 0 || weights.feature > 0) && !o.dryRun) {
      if (!isPatchDataset(data)) throw new ConfigError('cacheDir needs a PatchDataset (openDataset, imageFolderDataset, ...), not a plain iterable');
      const source = opts.cacheData ?? data;
      if (source !== data) {
        if (!isPatchDataset(source)) throw new ConfigError('cacheData must be a PatchDataset (openDataset, imageFolderDataset, ...)');
        if (source.scale !== data.scale || source.batchSize !== data.batchSize || source.state().seed !== data.state().seed || source.patchSize < data.patchSize || (source.patchSize - data.patchSize) % 2 !== 0) {
          throw new ConfigError(`cacheData must have data's scale, batch size and seed, and patches larger by an even number of pixels (the teacher's context): data is x${data.scale} p=${data.patchSize} batch ${data.batchSize} seed ${data.state().seed}, cacheData x${source.scale} p=${source.patchSize} batch ${source.batchSize} seed ${source.state().seed}`);
        }
      }
      const index = await ensureTeacherCache(teacher, source, {
        dir: opts.cacheDir,
        count: opts.cacheSize ?? 2048,
        patchSize: data.patchSize,
        teacherId: opts.teacherId,
        runtime: opts.teacherRuntime,
        ensemble: opts.teacherEnsemble,
        taps: featureTeacher ? undefined : teacherTaps,
        signal: o.signal,
        onProgress: o.onProgress,
      });
      if (adapters && !featureTeacher) {
        const cached = (index.features ?? []).map((f) => f.shape[3]);
        if (cached.join() !== adapters.teacherChannels.join()) {
          throw new ShapeError(`the teacher cache in ${opts.cacheDir} has features of [${cached.join(', ')}] channels, the teacher's taps have [${adapters.teacherChannels.join(', ')}]; delete the folder to rebuild it`);
        }
      }
      ownData = await openTeacherCache(opts.cacheDir, { batchSize: data.batchSize, seed: data.state().seed, features: adapters !== undefined && !featureTeacher, augment: opts.cacheAugment });
      trainData = ownData;
    }

    // Live teacher outputs (no cache, and not from the tapped model): prepared once, through ONNX Runtime when possible.
    const outputsFromTapped = teacherTapped !== undefined && !featureTeacher;
    if (!outputsFromTapped && weights.output > 0 && trainData === data && !o.dryRun) live = await prepareTeacher(teacher, opts.teacherRuntime ?? 'auto');

    const teacherTargets = async (batch: PatchBatch): Promise<{ output?: tf.Tensor4D; features?: tf.Tensor4D[] }> => {
      // Cached batches carry the teacher's targets (the loop takes them from the batch).
      if (batch.teacherFeatures) return {};
      let features: tf.Tensor4D[] | undefined;
      if (teacherTapped) {
        const outs = tf.tidy(() => teacherTapped!.predict(batch.lr) as tf.Tensor4D[]);
        const [out, ...rest] = outs;
        features = rest;
        if (outputsFromTapped && !batch.teacher && weights.output > 0) return { output: out, features };
        out.dispose();
      }
      if (batch.teacher || weights.output === 0) return features ? { features } : {};
      try {
        return { output: await selfEnsemble((x) => live!.run(x), batch.lr, ensemble), ...(features ? { features } : {}) };
      } catch (e) {
        tf.dispose(features ?? []);
        throw e;
      }
    };

    return await runTraining({ student, forward, data: trainData, scale, weights, adapters, teacher: teacherTargets, kind: 'distill' }, o);
  } finally {
    adapters?.dispose();
    ownData?.dispose();
    await live?.dispose();
  }
}
