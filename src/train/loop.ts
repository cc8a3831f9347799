/**
 * The training loop shared by `train` and `distill`: one Adam step per batch on the combined loss, with warmup +
 * schedule, global-norm clipping, optional EMA, periodic validation, atomic best/last checkpoints, exact resume,
 * a JSONL log, progress reports, abort handling and a NaN guard.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../core/register-gradients';
// tfjs-layers' Node build registers every gradient of tfjs-core as a side effect.
import * as tfl from '@tensorflow/tfjs-layers';
import { throwIfAborted, yieldToEventLoop } from '../core/task';
import { AbortError, BackendError, ConfigError, NanLossError } from '../errors';
import type { PatchBatch, PatchDataset } from '../data/types';
import type { ResolvedLossWeights } from '../losses/combined';
import type { FeatureAdapters } from '../losses/feature-kd';
import { Adam } from './adam';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { WeightEma } from './ema';
import type { ResolvedTrainOptions } from './options';
import { reparameterize } from '../models/layers/rep-conv';
import { RunLog } from './run-log';
import { learningRateAt } from './schedule';
import { trainingStep, type StepParts } from './step';
import { restoreTraining, snapshotTraining, type TrainParts } from './train-state';
import { evaluateModel, loadValidationSet, type ValidationResult, type ValidationSet } from './validate';

/**
 * What `train` / `distill` return.
 *
 * @example
 * ```ts
 * const { step, loss, best, history } = await train({ student, data, schedule: { steps: 100 } });
 * ```
 */
export interface TrainResult {
  /** Last step done. */
  step: number;
  /** Loss of the last step of this call; NaN when it took no step (see `alreadyFinished`). */
  loss: number;
  /** Step the run started from (0, or the resumed checkpoint's step). */
  startStep: number;
  /** Total loss of every step of this call, in order. */
  history: { step: number; loss: number }[];
  /** Last validation, if any. */
  val?: ValidationResult & { step: number };
  /** Best validation (or, without validation, lowest smoothed loss at a checkpoint). */
  best?: { step: number; psnr?: number; ssim?: number; loss?: number };
  /** Files written (when `out` is set). */
  files?: { last: string; best: string; log: string; modelBest?: string; modelLast?: string };
  /** The checkpoint the run continued from, when it resumed. */
  resumedFrom?: string;
  /** Set by a dry run (`dryRun: true`): what the run would do. No step was taken and nothing was written. */
  plan?: { startStep: number; steps: number; lrAtStart: number; validationImages: number };
  /**
   * Set when the resumed checkpoint was already at (or past) `steps`: no step was taken and `loss` is NaN. Raise
   * `schedule.steps` to train further. Nothing was written, except a missing `model-last` of the run folder, which is
   * exported again from its `last.ckpt` (`restored` is then its path).
   */
  alreadyFinished?: { steps: number; restored?: string };
  /** Steps of this call whose update was skipped as a gradient spike (`schedule.skipSpikes`). */
  skippedSteps: number[];
}

/** @internal What `train` and `distill` plug into the loop. */
export interface LoopSpec {
  student: tfl.LayersModel;
  /** The student, or its tapped multi-output view `[sr, ...features]` for feature KD. */
  forward: tfl.LayersModel;
  data: PatchDataset | AsyncIterable<PatchBatch>;
  scale: number;
  weights: ResolvedLossWeights;
  adapters?: FeatureAdapters;
  /**
   * Teacher targets for a batch, computed outside the gradient tape; the loop disposes them. A batch's own `teacher` /
   * `teacherFeatures` (from a teacher cache) take precedence.
   */
  teacher?: (batch: PatchBatch) => Promise<{ output?: tf.Tensor4D; features?: tf.Tensor4D[] }>;
  kind: 'train' | 'distill';
}

/** Steps the running mean of gradient norms sees before `schedule.skipSpikes` may skip one. */
const SPIKE_GUARD_AFTER = 50;

function isPatchDataset(d: unknown): d is PatchDataset {
  return typeof (d as PatchDataset).state === 'function' && typeof (d as PatchDataset).restore === 'function';
}

/** @internal Runs the loop (see the module doc). */
export async function runTraining(spec: LoopSpec, o: ResolvedTrainOptions): Promise<TrainResult> {
  void tfl.version_layers;
  if (!tf.getGradient('Conv2D') || !tf.getGradient('Sub')) {
    throw new BackendError("TF.js gradients are not registered (sharpen-kd registers them on import; another copy of @tensorflow/tfjs-core may be in use: dedupe it)");
  }
  // Node's fs and path only when the run touches files, so that in-memory training also runs in a browser.
  const usesFiles = o.out !== undefined || typeof o.resume === 'string';
  const path = usesFiles ? await import('node:path') : undefined;
  const fs = usesFiles ? await import('node:fs/promises') : undefined;
  const vars = [...spec.student.trainableWeights.map((w) => w.read() as tf.Variable), ...(spec.adapters?.variables ?? [])];
  const adam = new Adam(vars);
  const { schedule: sc, validation: val, checkpoint: ck } = o;
  const ema = sc.ema > 0 ? new WeightEma(spec.student.trainableWeights.map((w) => w.read() as tf.Variable), sc.ema) : undefined;
  const parts: TrainParts = { model: spec.student, adam, ema, adapters: spec.adapters };
  const stepParts: StepParts = { forward: spec.forward, vars, adam, ema, weights: spec.weights, adapters: spec.adapters };
  const files = o.out && path
    ? { last: path.join(o.out, 'last.ckpt'), best: path.join(o.out, 'best.ckpt'), log: path.join(o.out, 'log.jsonl'), modelBest: path.join(o.out, 'model-best'), modelLast: path.join(o.out, 'model-last') }
    : undefined;
  const result: TrainResult = { step: 0, loss: NaN, startStep: 0, history: [], files, skippedSteps: [] };
  const lrAt = (step: number) =>
    learningRateAt(step, { kind: sc.kind, lr: sc.lr, steps: sc.steps, warmup: sc.warmup, minLr: sc.minLr, stepSize: sc.stepSize, gamma: sc.gamma, start: sc.start });
  let lossEma: number | undefined;
  // Running mean of the steps' gradient norms, for schedule.skipSpikes (kept in checkpoints for exact resume).
  let gradNorms = { mean: 0, seen: 0 };
  // The checkpoint's meta keeps its layout (steps and seed at the top), so checkpoints of every version resume.
  const meta = (): Record<string, unknown> => ({
    kind: spec.kind,
    steps: sc.steps,
    seed: o.seed,
    data: isPatchDataset(spec.data) ? spec.data.state() : null,
    best: result.best ?? null,
    lossEma: lossEma ?? null,
    gradNorms,
    lossWeights: spec.weights,
    user: o.meta ?? {},
  });
  try {
    const withEma = async <T>(f: () => Promise<T>): Promise<T> => {
      ema?.swap();
      try {
        return await f();
      } finally {
        ema?.swap();
      }
    };
    const exportModel = async (dir: string) => {
      if (!o.exportModels) return;
      const { saveModel } = await import('../io/model-io');
      // Re-parameterizable students are saved as the plain model they equal (inference graph and size).
      await withEma(async () => {
        const plain = await reparameterize(spec.student);
        try {
          await saveModel(plain, dir);
        } finally {
          if (plain !== spec.student) plain.dispose();
        }
      });
    };
    // Resume.
    let resumeFile: string | undefined;
    if (typeof o.resume === 'string' && fs && path) {
      const st = await fs.stat(o.resume).catch(() => undefined);
      resumeFile = st?.isDirectory() ? path.join(o.resume, 'last.ckpt') : o.resume;
    } else if (o.resume && files && fs && (await fs.stat(files.last).catch(() => undefined))) {
      resumeFile = files.last;
    }
    if (resumeFile) {
      const ckpt = await loadCheckpoint(resumeFile);
      restoreTraining(ckpt, parts);
      result.startStep = result.step = ckpt.step;
      const m = ckpt.meta as { data?: { seed: number; batch: number }; best?: TrainResult['best']; lossEma?: number; gradNorms?: { mean: number; seen: number } };
      if (m.data && isPatchDataset(spec.data)) spec.data.restore(m.data);
      // The best validation so far belongs to the run folder it was measured in: a run continued from another
      // run's checkpoint (a new cycle, a fine-tune) starts its own, so that its folder gets its own model-best.
      const sameRun = files !== undefined && path !== undefined && path.resolve(resumeFile) === path.resolve(files.last);
      result.best = sameRun ? (m.best ?? undefined) : undefined;
      lossEma = m.lossEma ?? undefined;
      if (m.gradNorms) gradNorms = { ...m.gradNorms };
      result.resumedFrom = resumeFile;
    }
    if (sc.start !== undefined && result.step < sc.start) {
      throw new ConfigError(`the schedule starts after step ${sc.start} but the run is at step ${result.step}: finish the run it continues first, or lower schedule.start (--schedule-start)`);
    }
    if (resumeFile && result.step >= sc.steps && !o.dryRun) {
      result.alreadyFinished = { steps: sc.steps };
      // A finished run whose model-last is gone (a run folder committed without it) gets it back from last.ckpt.
      if (o.exportModels && files?.modelLast && fs && path && path.resolve(resumeFile) === path.resolve(files.last) && !(await fs.stat(path.join(files.modelLast, 'model.json')).catch(() => undefined))) {
        await exportModel(files.modelLast);
        result.alreadyFinished.restored = files.modelLast;
      }
      return result;
    }
    const valSet: ValidationSet | undefined =
      val.folder !== undefined ? await loadValidationSet(val.folder, spec.scale as 1, { maxImages: val.images, degradation: val.degradation }) : val.set;
    if (o.dryRun) {
      const next = Math.min(result.step + 1, sc.steps);
      const lrAtStart = lrAt(next);
      result.plan = { startStep: result.step, steps: sc.steps, lrAtStart, validationImages: valSet?.images.length ?? 0 };
      return result;
    }
    const log = files ? await RunLog.open(files.log, { keepUpTo: result.step }) : undefined;

    const checkpoint = async (which: 'last' | 'best') => {
      if (!files) return;
      await saveCheckpoint(which === 'last' ? files.last : files.best, snapshotTraining(result.step, parts, meta(), { compact: ck.precision === 'compact' }));
      await exportModel(which === 'last' ? files.modelLast : files.modelBest);
    };

    const it = spec.data[Symbol.asyncIterator]();
    let windowStart = performance.now();
    let windowSteps = 0;
    let stepsPerSec = 0;
    while (result.step < sc.steps) {
      throwIfAborted(o.signal);
      const next = await it.next();
      if (next.done) break;
      const batch = next.value;
      const step = result.step + 1;
      const lr = lrAt(step);
      const targets = spec.teacher ? await spec.teacher(batch) : {};
      const threshold = sc.skipSpikes > 0 && gradNorms.seen >= SPIKE_GUARD_AFTER ? sc.skipSpikes * gradNorms.mean : Infinity;
      const r = trainingStep(stepParts, batch, targets, lr, sc.clip, threshold);
      tf.dispose([batch.lr, batch.hr, batch.teacher, ...(batch.teacherFeatures ?? []), targets.output, ...(targets.features ?? [])]);
      const { loss, gradNorm: gnorm } = r;
      if (r.skipped) {
        result.skippedSteps.push(step);
        await log?.write({ step, event: 'skipped', gradNorm: gnorm, threshold });
      } else if (!r.applied) {
        await log?.write({ step, event: 'nan', loss: String(loss), gradNorm: String(gnorm) });
        throw new NanLossError(step);
      }
      result.step = step;
      result.loss = loss;
      result.history.push({ step, loss });
      lossEma = lossEma === undefined ? loss : 0.98 * lossEma + 0.02 * loss;
      const counted = Math.min(gnorm, threshold);
      gradNorms = { mean: gradNorms.seen === 0 ? counted : 0.98 * gradNorms.mean + 0.02 * counted, seen: gradNorms.seen + 1 };
      windowSteps++;
      const now = performance.now();
      if (now - windowStart >= 2000 || windowSteps >= ck.logEvery) {
        stepsPerSec = (windowSteps * 1000) / (now - windowStart);
        windowStart = now;
        windowSteps = 0;
      }
      if (step % ck.logEvery === 0 || step === sc.steps) {
        const row: Record<string, unknown> = { step, loss, lr, gradNorm: gnorm, stepsPerSec };
        Object.assign(row, r.parts);
        await log?.write(row);
      }
      const info: Record<string, number | string> = { loss: lossEma, lr, 'step/s': stepsPerSec };
      if (result.val) info.psnr = result.val.psnr;
      o.onProgress?.({ stage: 'train', done: step, total: sc.steps, info });

      const isLast = step === sc.steps;
      if (valSet && (step % val.every === 0 || isLast)) {
        const v = await withEma(() => evaluateModel(spec.student, valSet, { signal: o.signal }));
        result.val = { ...v, step };
        await log?.write({ step, valPsnr: v.psnr, valSsim: v.ssim });
        if (!result.best || result.best.psnr === undefined || v.psnr > result.best.psnr) {
          result.best = { step, psnr: v.psnr, ssim: v.ssim };
          await checkpoint('best');
        }
      }
      if (step % ck.every === 0 || isLast) {
        if (!valSet && (!result.best || result.best.loss === undefined || lossEma < result.best.loss)) {
          result.best = { step, loss: lossEma };
          await checkpoint('best');
        }
        await checkpoint('last');
      }
      await yieldToEventLoop();
    }
    return result;
  } catch (e) {
    if (e instanceof AbortError && files && result.step > result.startStep) {
      // Keep the work done: an aborted run resumes from here.
      await saveCheckpoint(files.last, snapshotTraining(result.step, parts, meta(), { compact: ck.precision === 'compact' }));
    }
    throw e;
  } finally {
    adam.dispose();
    ema?.dispose();
  }
}
