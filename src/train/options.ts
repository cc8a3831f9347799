/** Options of `train` and `distill`, validated at the boundary. */
import { ConfigError } from '../errors';
import type { TaskOptions } from '../core/task';
import type { DegradationOptions } from '../data/degrade';
import type { LossWeights } from '../losses/combined';
import { checkSchedule, type ScheduleKind } from './schedule';
import type { ValidationSet } from './validate';

/**
 * Precision of training checkpoints; see {@link TrainOptions.checkpointPrecision}.
 *
 * @example
 * ```ts
 * const p: CheckpointPrecision = 'compact';
 * ```
 */
export type CheckpointPrecision = 'full' | 'compact';

/**
 * The training options `train` and `distill` share: steps, schedule, loss, checkpoints, validation. Both take them
 * in one object with the student and the data (`TrainStudentOptions`, `DistillOptions`).
 *
 * @example
 * ```ts
 * const opts: TrainOptions = { steps: 20_000, lr: 1e-3, schedule: 'cosine', warmup: 500, clip: 1, ema: 0.999,
 *   val: '../shared/data/Set5', valEvery: 1000, out: 'runs/x2', resume: true, seed: 1 };
 * ```
 */
export interface TrainOptions extends TaskOptions {
  /** Total optimizer steps (a resumed run continues up to this number). */
  steps: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Learning-rate schedule after warmup (default `'cosine'`). */
  schedule?: ScheduleKind;
  /** Linear warmup steps (default min(500, 2% of steps)). */
  warmup?: number;
  /** Cosine: final learning rate (default lr / 100). */
  minLr?: number;
  /**
   * Step the schedule (warmup, then decay) starts after; default 0. A run resumed at step `s` with `scheduleStart: s`
   * gets a fresh cycle over `s + 1 .. steps`, e.g. a fine-tune at a lower peak learning rate.
   */
  scheduleStart?: number;
  /** Step schedule: decay period (default steps / 4) and factor (default 0.5). */
  stepSize?: number;
  gamma?: number;
  /** Clip gradients to this global L2 norm (default 0 = off). */
  clip?: number;
  /** EMA decay of the weights, e.g. 0.999 (default 0 = off). Validation and exported models use the EMA weights. */
  ema?: number;
  /** Loss weights (`train`: pixel 1; `distill`: pixel 1, output 1). */
  loss?: LossWeights;
  /** Validation: a folder of HR images (or a set folder with `HR/`), or a loaded set. */
  val?: string | ValidationSet;
  /** Validate every N steps (default 500) and at the end. */
  valEvery?: number;
  /** Use only the first N validation images. */
  valImages?: number;
  /** Scale-1 validation: the degradation to undo (default: the blind ×1 protocol, as `sharpen-kd eval --scale 1`). */
  valDegradation?: DegradationOptions;
  /** Folder for checkpoints (`last.ckpt`, `best.ckpt`), the JSONL log and exported models. Without it nothing is written. */
  out?: string;
  /** Write `last.ckpt` every N steps (default `valEvery`), at the end, and when aborted. */
  checkpointEvery?: number;
  /**
   * Checkpoint precision: `'full'` (default, exact float32: a resumed run continues bit for bit) or `'compact'`
   * (Adam moments and EMA shadows as bfloat16, model weights exact; about 40% smaller, for large teachers).
   */
  checkpointPrecision?: CheckpointPrecision;
  /** `true`: continue from `out/last.ckpt` if it exists; a path: continue from that run folder or `.ckpt` file. */
  resume?: boolean | string;
  /** Seed (adapters' init; the data stream has its own seed). Default 0. */
  seed?: number;
  /** Write a log line every N steps (default 10). */
  logEvery?: number;
  /** Export `model-best/` and `model-last/` (TF.js layers format) into `out` (default true). */
  exportModels?: boolean;
  /**
   * Check everything and stop before the first step: the options, the model against the checkpoint a resume would
   * load, the validation set. Nothing is written and no step is taken (`distill` builds no teacher cache); the result's
   * `plan` says where the run would start, where it would end and at what learning rate. Default false.
   */
  dryRun?: boolean;
  /** Free-form JSON stored in checkpoints (the CLI keeps the model config here). */
  meta?: Record<string, unknown>;
}

/**
 * {@link TrainOptions} with defaults applied.
 *
 * @example
 * ```ts
 * const o: ResolvedTrainOptions = resolveTrainOptions({ steps: 1000 });
 * o.warmup; // 20 (2% of steps)
 * ```
 */
export interface ResolvedTrainOptions extends TrainOptions {
  checkpointPrecision: CheckpointPrecision;
  lr: number;
  schedule: ScheduleKind;
  warmup: number;
  clip: number;
  ema: number;
  valEvery: number;
  checkpointEvery: number;
  seed: number;
  logEvery: number;
  exportModels: boolean;
}

const posInt = (name: string, v: number, min = 1) => {
  if (!(Number.isInteger(v) && v >= min)) throw new ConfigError(`${name} must be an integer >= ${min}, got ${v}`);
};

/**
 * Validates options and applies defaults (throws {@link ConfigError}).
 *
 * @example
 * ```ts
 * const o = resolveTrainOptions({ steps: 100 });
 * ```
 */
export function resolveTrainOptions(o: TrainOptions): ResolvedTrainOptions {
  if (!o || typeof o !== 'object') throw new ConfigError('train options are required, e.g. { steps: 1000 }');
  posInt('steps', o.steps);
  const valEvery = o.valEvery ?? 500;
  const r: ResolvedTrainOptions = {
    ...o,
    lr: o.lr ?? 1e-3,
    schedule: o.schedule ?? 'cosine',
    warmup: o.warmup ?? Math.min(500, Math.floor((o.steps - (o.scheduleStart ?? 0)) * 0.02)),
    clip: o.clip ?? 0,
    ema: o.ema ?? 0,
    valEvery,
    checkpointEvery: o.checkpointEvery ?? valEvery,
    checkpointPrecision: o.checkpointPrecision ?? 'full',
    seed: o.seed ?? 0,
    logEvery: o.logEvery ?? 10,
    exportModels: o.exportModels ?? true,
  };
  if (!(r.lr > 0 && r.lr < 1)) throw new ConfigError(`lr must be in (0, 1), got ${r.lr}`);
  checkSchedule({ kind: r.schedule, lr: r.lr, steps: r.steps, warmup: r.warmup, minLr: r.minLr, stepSize: r.stepSize, gamma: r.gamma, start: r.scheduleStart });
  posInt('warmup', r.warmup, 0);
  posInt('valEvery', r.valEvery);
  posInt('checkpointEvery', r.checkpointEvery);
  posInt('logEvery', r.logEvery);
  if (r.checkpointPrecision !== 'full' && r.checkpointPrecision !== 'compact') {
    throw new ConfigError(`checkpointPrecision must be 'full' or 'compact', got ${String(r.checkpointPrecision)}`);
  }
  if (!(r.clip >= 0 && Number.isFinite(r.clip))) throw new ConfigError(`clip must be >= 0 (0 = off), got ${r.clip}`);
  if (!(r.ema === 0 || (r.ema > 0 && r.ema < 1))) throw new ConfigError(`ema must be 0 (off) or a decay in (0, 1) such as 0.999, got ${r.ema}`);
  if (r.valImages !== undefined) posInt('valImages', r.valImages);
  if (r.resume && !r.out && r.resume === true) throw new ConfigError('resume: true needs out (the run folder to continue)');
  return r;
}
