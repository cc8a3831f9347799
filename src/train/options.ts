/**
 * Options of `train` and `distill`, in one grouped shape (schedule, loss, validation, checkpoint), the shape of the
 * run configs (`sharpen-kd train|distill --config run.json`). {@link normalizeTrainOptions} maps the earlier flat keys
 * onto it; {@link resolveTrainOptions} validates and applies defaults; the training loop reads the result.
 */
import { didYouMean } from '../core/did-you-mean';
import { ConfigError } from '../errors';
import type { TaskOptions } from '../core/task';
import type { DegradationOptions } from '../data/degrade';
import type { LossWeights } from '../losses/combined';
import { checkSchedule, type ScheduleKind } from './schedule';
import type { ValidationSet } from './validate';

/**
 * Precision of training checkpoints; see {@link TrainCheckpointOptions.precision}.
 *
 * @example
 * ```ts
 * const p: CheckpointPrecision = 'compact';
 * ```
 */
export type CheckpointPrecision = 'full' | 'compact';

/**
 * `schedule`: how long and how fast a run trains. The run-config section of the same name holds the same keys.
 *
 * @example
 * ```ts
 * const schedule: TrainScheduleOptions = { steps: 20_000, lr: 1e-3, kind: 'cosine', warmup: 500, clip: 1, ema: 0.999 };
 * ```
 */
export interface TrainScheduleOptions {
  /** Total optimizer steps (a resumed run continues up to this number). */
  steps: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Learning-rate schedule after warmup (default `'cosine'`). */
  kind?: ScheduleKind;
  /** Linear warmup steps (default min(500, 2% of the steps after `start`)). */
  warmup?: number;
  /** Cosine: final learning rate (default lr / 100). */
  minLr?: number;
  /**
   * Step the schedule (warmup, then decay) starts after; default 0. A run resumed at step `s` with `start: s` gets a
   * fresh cycle over `s + 1 .. steps`, e.g. a fine-tune at a lower peak learning rate.
   */
  start?: number;
  /** Step schedule: decay period (default steps / 4). */
  stepSize?: number;
  /** Step schedule: decay factor (default 0.5). */
  gamma?: number;
  /** Clip gradients to this global L2 norm (default 0 = off). */
  clip?: number;
  /** EMA decay of the weights, e.g. 0.999 (default 0 = off). Validation and exported models use the EMA weights. */
  ema?: number;
  /**
   * Skip the update of a step whose gradient norm (before clipping) is more than this many times the running mean of
   * the steps' norms, e.g. 10 (default 0 = off). A skipped step changes neither the weights, Adam's moments nor the
   * EMA; it still counts as a step (the schedule moves on) and is logged as `{ event: 'skipped' }`. One bad batch then
   * cannot throw a run off, which clipping alone does not prevent: a clipped spike still moves every weight, and
   * Adam's moments carry it on. The guard starts once the mean has seen 50 steps, and a skipped step enters it at
   * the threshold, so a lasting change of scale is accepted after a few skipped steps.
   */
  skipSpikes?: number;
}

/**
 * `validation`: what the run is scored on, and how often. Give `folder` or `set`, not both; with neither the run
 * does not validate (the best checkpoint is then the one with the lowest smoothed loss).
 *
 * @example
 * ```ts
 * const validation: TrainValidationOptions = { folder: '../shared/data/Set5', every: 1000, images: 5 };
 * ```
 */
export interface TrainValidationOptions {
  /** A folder of HR images (or a set folder with `HR/`), loaded with the literature protocol. */
  folder?: string;
  /** A loaded set (see `loadValidationSet`), instead of `folder`. */
  set?: ValidationSet;
  /** Validate every N steps (default 500) and at the end. */
  every?: number;
  /** Use only the first N images of `folder`. */
  images?: number;
  /** Scale-1 `folder`: the degradation to undo (default: the blind ×1 protocol, as `sharpen-kd eval --scale 1`). */
  degradation?: DegradationOptions;
}

/**
 * `checkpoint`: how often and how the run folder (`out`) is written.
 *
 * @example
 * ```ts
 * const checkpoint: TrainCheckpointOptions = { every: 1000, precision: 'compact', logEvery: 50 };
 * ```
 */
export interface TrainCheckpointOptions {
  /** Write `last.ckpt` every N steps (default `validation.every`), at the end, and when aborted. */
  every?: number;
  /**
   * Checkpoint precision: `'full'` (default, exact float32: a resumed run continues bit for bit) or `'compact'`
   * (Adam moments and EMA shadows as bfloat16, model weights exact; about 40% smaller, for large teachers).
   */
  precision?: CheckpointPrecision;
  /** Write a line to `log.jsonl` every N steps (default 10). */
  logEvery?: number;
}

/**
 * The training options `train` and `distill` share, grouped as in a run config: `schedule`, `loss`, `validation`,
 * `checkpoint`, and the run folder and its resume at the top. Both take them in one object with the student and the
 * data (`TrainStudentOptions`, `DistillOptions`).
 *
 * The earlier flat keys (`steps`, `lr`, `schedule: 'cosine'`, `val`, `valEvery`, `checkpointEvery`, ...) are
 * deprecated aliases of the grouped ones ({@link normalizeTrainOptions} maps them); a setting given both ways is a
 * {@link ConfigError}.
 *
 * @example
 * ```ts
 * const opts: TrainOptions = {
 *   schedule: { steps: 20_000, lr: 1e-3, kind: 'cosine', warmup: 500, clip: 1, ema: 0.999 },
 *   loss: { pixel: 1, ssim: 0.1 },
 *   validation: { folder: '../shared/data/Set5', every: 1000 },
 *   checkpoint: { every: 1000 },
 *   out: 'runs/x2',
 *   resume: true,
 *   seed: 1,
 * };
 * ```
 */
export interface TrainOptions extends TaskOptions {
  /**
   * Steps, learning rate and its schedule, clipping, EMA ({@link TrainScheduleOptions}); `schedule.steps` is required.
   * A string is the deprecated flat form of `schedule.kind` (with `steps` etc. at the top level).
   */
  schedule?: TrainScheduleOptions | ScheduleKind;
  /** Loss weights (`train`: pixel 1; `distill`: pixel 1, output 1). */
  loss?: LossWeights;
  /** Validation set and how often to score it ({@link TrainValidationOptions}). */
  validation?: TrainValidationOptions;
  /** How often and how the run folder is written ({@link TrainCheckpointOptions}). */
  checkpoint?: TrainCheckpointOptions;
  /** Folder for checkpoints (`last.ckpt`, `best.ckpt`), the JSONL log and exported models. Without it nothing is written. */
  out?: string;
  /** `true`: continue from `out/last.ckpt` if it exists; a path: continue from that run folder or `.ckpt` file. */
  resume?: boolean | string;
  /** Seed (adapters' init; the data stream has its own seed). Default 0. */
  seed?: number;
  /** Export `model-best/` and `model-last/` (TF.js layers format) into `out` with each checkpoint (default true). */
  exportModels?: boolean;
  /**
   * Check everything and stop before the first step: the options, the model against the checkpoint a resume would
   * load, the validation set. Nothing is written and no step is taken (`distill` builds no teacher cache); the result's
   * `plan` says where the run would start, where it would end and at what learning rate. Default false.
   */
  dryRun?: boolean;
  /** Free-form JSON stored in checkpoints (the CLI keeps the model config here). */
  meta?: Record<string, unknown>;

  /** @deprecated Use `schedule.steps`. */
  steps?: number;
  /** @deprecated Use `schedule.lr`. */
  lr?: number;
  /** @deprecated Use `schedule.warmup`. */
  warmup?: number;
  /** @deprecated Use `schedule.minLr`. */
  minLr?: number;
  /** @deprecated Use `schedule.start`. */
  scheduleStart?: number;
  /** @deprecated Use `schedule.stepSize`. */
  stepSize?: number;
  /** @deprecated Use `schedule.gamma`. */
  gamma?: number;
  /** @deprecated Use `schedule.clip`. */
  clip?: number;
  /** @deprecated Use `schedule.ema`. */
  ema?: number;
  /** @deprecated Use `validation.folder` (a path) or `validation.set` (a loaded set). */
  val?: string | ValidationSet;
  /** @deprecated Use `validation.every`. */
  valEvery?: number;
  /** @deprecated Use `validation.images`. */
  valImages?: number;
  /** @deprecated Use `validation.degradation`. */
  valDegradation?: DegradationOptions;
  /** @deprecated Use `checkpoint.every`. */
  checkpointEvery?: number;
  /** @deprecated Use `checkpoint.precision`. */
  checkpointPrecision?: CheckpointPrecision;
  /** @deprecated Use `checkpoint.logEvery`. */
  logEvery?: number;
}

/**
 * {@link TrainOptions} in the grouped shape only, as {@link normalizeTrainOptions} returns them: no deprecated flat
 * key, `schedule` an object. Groups with no setting are left out.
 *
 * @example
 * ```ts
 * const n: NormalizedTrainOptions = normalizeTrainOptions({ steps: 100, valEvery: 10 });
 * // { schedule: { steps: 100 }, validation: { every: 10 } }
 * ```
 */
export interface NormalizedTrainOptions
  extends Omit<
    TrainOptions,
    | 'schedule' | 'steps' | 'lr' | 'warmup' | 'minLr' | 'scheduleStart' | 'stepSize' | 'gamma' | 'clip' | 'ema'
    | 'val' | 'valEvery' | 'valImages' | 'valDegradation' | 'checkpointEvery' | 'checkpointPrecision' | 'logEvery'
  > {
  /** Steps, learning rate and its schedule, clipping, EMA. */
  schedule: TrainScheduleOptions;
}

/**
 * {@link NormalizedTrainOptions} with defaults applied: what the training loop reads.
 *
 * @example
 * ```ts
 * const o: ResolvedTrainOptions = resolveTrainOptions({ schedule: { steps: 1000 } });
 * o.schedule.warmup; // 20 (2% of steps)
 * ```
 */
export interface ResolvedTrainOptions extends NormalizedTrainOptions {
  schedule: TrainScheduleOptions & Required<Pick<TrainScheduleOptions, 'lr' | 'kind' | 'warmup' | 'clip' | 'ema' | 'skipSpikes'>>;
  validation: TrainValidationOptions & { every: number };
  checkpoint: Required<TrainCheckpointOptions>;
  seed: number;
  exportModels: boolean;
}

type Group = 'schedule' | 'validation' | 'checkpoint';

/** Deprecated flat key → its place in the grouped shape (`schedule` and `val` are mapped by their value's type). */
const FLAT_KEYS: Record<Exclude<keyof TrainOptions, keyof NormalizedTrainOptions | 'val'>, [Group, string]> = {
  steps: ['schedule', 'steps'],
  lr: ['schedule', 'lr'],
  warmup: ['schedule', 'warmup'],
  minLr: ['schedule', 'minLr'],
  scheduleStart: ['schedule', 'start'],
  stepSize: ['schedule', 'stepSize'],
  gamma: ['schedule', 'gamma'],
  clip: ['schedule', 'clip'],
  ema: ['schedule', 'ema'],
  valEvery: ['validation', 'every'],
  valImages: ['validation', 'images'],
  valDegradation: ['validation', 'degradation'],
  checkpointEvery: ['checkpoint', 'every'],
  checkpointPrecision: ['checkpoint', 'precision'],
  logEvery: ['checkpoint', 'logEvery'],
};

/** The keys of each group, for typos (`schedule: { setps: 100 }` from JavaScript). */
const GROUP_KEYS: Record<Group, readonly string[]> = {
  schedule: ['steps', 'lr', 'kind', 'warmup', 'minLr', 'start', 'stepSize', 'gamma', 'clip', 'ema', 'skipSpikes'],
  validation: ['folder', 'set', 'every', 'images', 'degradation'],
  checkpoint: ['every', 'precision', 'logEvery'],
};

/** Settings that keep their name and place. */
const TOP_KEYS = ['loss', 'out', 'resume', 'seed', 'exportModels', 'dryRun', 'meta', 'signal', 'onProgress'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The one place the deprecated flat keys become grouped ones: returns the options in the grouped shape only. A
 * setting given both ways (e.g. `steps` and `schedule.steps`) is a {@link ConfigError}, as are a group that is not an
 * object and an unknown key inside a group. Keys that are not training options (`student`, `data`, `teacher`, ...)
 * are ignored. Values are not checked here: {@link resolveTrainOptions} does that.
 *
 * @example
 * ```ts
 * normalizeTrainOptions({ steps: 100, lr: 2e-3, schedule: 'step', val: 'Set5', checkpointEvery: 50 });
 * // { schedule: { steps: 100, lr: 2e-3, kind: 'step' }, validation: { folder: 'Set5' }, checkpoint: { every: 50 } }
 * ```
 */
export function normalizeTrainOptions(o: TrainOptions): NormalizedTrainOptions {
  if (!isObject(o)) throw new ConfigError('train options are required, e.g. { schedule: { steps: 1000 } }');
  const groups: Record<Group, Record<string, unknown>> = { schedule: {}, validation: {}, checkpoint: {} };
  for (const g of Object.keys(groups) as Group[]) {
    const v = (o as Record<string, unknown>)[g];
    if (v === undefined || (g === 'schedule' && typeof v === 'string')) continue;
    if (!isObject(v)) throw new ConfigError(`${g} must be an object of settings, e.g. ${g}: { ${GROUP_KEYS[g][0]}: ... }, got ${JSON.stringify(v)}`);
    for (const [k, x] of Object.entries(v)) {
      if (!GROUP_KEYS[g].includes(k)) throw new ConfigError(`${g}.${k} is not a training option${didYouMean(`${g}.${k}`, GROUP_KEYS[g].map((x) => `${g}.${x}`))}`);
      if (x !== undefined) groups[g][k] = x;
    }
  }
  const alias = (flat: string, g: Group, k: string, value: unknown) => {
    if (value === undefined) return;
    if (groups[g][k] !== undefined) throw new ConfigError(`${flat} and ${g}.${k} are the same setting, given both ways: keep ${g}.${k} (${flat} is its deprecated flat form)`);
    groups[g][k] = value;
  };
  for (const [flat, [g, k]] of Object.entries(FLAT_KEYS)) alias(flat, g, k, (o as Record<string, unknown>)[flat]);
  if (typeof o.schedule === 'string') alias('schedule (a string)', 'schedule', 'kind', o.schedule);
  if (o.val !== undefined) alias('val', 'validation', typeof o.val === 'string' ? 'folder' : 'set', o.val);
  // schedule.steps may still be missing: resolveTrainOptions says so.
  const n: NormalizedTrainOptions = { schedule: groups.schedule as unknown as TrainScheduleOptions };
  if (Object.keys(groups.validation).length > 0) n.validation = groups.validation;
  if (Object.keys(groups.checkpoint).length > 0) n.checkpoint = groups.checkpoint;
  for (const k of TOP_KEYS) if (o[k] !== undefined) (n as unknown as Record<string, unknown>)[k] = o[k];
  return n;
}

const posInt = (name: string, v: number, min = 1) => {
  if (!(Number.isInteger(v) && v >= min)) throw new ConfigError(`${name} must be an integer >= ${min}, got ${v}`);
};

/**
 * Normalises the options ({@link normalizeTrainOptions}), validates them and applies defaults (throws
 * {@link ConfigError}).
 *
 * @example
 * ```ts
 * const o = resolveTrainOptions({ schedule: { steps: 100 }, validation: { folder: 'Set5' } });
 * o.validation.every; // 500
 * ```
 */
export function resolveTrainOptions(opts: TrainOptions): ResolvedTrainOptions {
  const n = normalizeTrainOptions(opts);
  const s = n.schedule;
  if (s.steps === undefined) throw new ConfigError('schedule.steps is required, e.g. { schedule: { steps: 1000 } }');
  posInt('schedule.steps', s.steps);
  const every = n.validation?.every ?? 500;
  const r: ResolvedTrainOptions = {
    ...n,
    schedule: {
      ...s,
      lr: s.lr ?? 1e-3,
      kind: s.kind ?? 'cosine',
      warmup: s.warmup ?? Math.min(500, Math.floor((s.steps - (s.start ?? 0)) * 0.02)),
      clip: s.clip ?? 0,
      ema: s.ema ?? 0,
      skipSpikes: s.skipSpikes ?? 0,
    },
    validation: { ...n.validation, every },
    checkpoint: { every: n.checkpoint?.every ?? every, precision: n.checkpoint?.precision ?? 'full', logEvery: n.checkpoint?.logEvery ?? 10 },
    seed: n.seed ?? 0,
    exportModels: n.exportModels ?? true,
  };
  const { schedule: sc, validation: v, checkpoint: c } = r;
  if (!(sc.lr > 0 && sc.lr < 1)) throw new ConfigError(`schedule.lr must be in (0, 1), got ${sc.lr}`);
  checkSchedule({ kind: sc.kind, lr: sc.lr, steps: sc.steps, warmup: sc.warmup, minLr: sc.minLr, stepSize: sc.stepSize, gamma: sc.gamma, start: sc.start });
  posInt('schedule.warmup', sc.warmup, 0);
  if (!(sc.clip >= 0 && Number.isFinite(sc.clip))) throw new ConfigError(`schedule.clip must be >= 0 (0 = off), got ${sc.clip}`);
  if (!(sc.skipSpikes === 0 || (sc.skipSpikes > 1 && Number.isFinite(sc.skipSpikes)))) throw new ConfigError(`schedule.skipSpikes must be 0 (off) or a factor > 1 such as 10, got ${sc.skipSpikes}`);
  if (!(sc.ema === 0 || (sc.ema > 0 && sc.ema < 1))) throw new ConfigError(`schedule.ema must be 0 (off) or a decay in (0, 1) such as 0.999, got ${sc.ema}`);
  posInt('validation.every', v.every);
  if (v.images !== undefined) posInt('validation.images', v.images);
  if (v.folder !== undefined && v.set !== undefined) throw new ConfigError('validation: give folder (a path) or set (a loaded set), not both');
  if (v.folder !== undefined && (typeof v.folder !== 'string' || v.folder === '')) throw new ConfigError(`validation.folder must be a path, got ${JSON.stringify(v.folder)}`);
  if (v.set !== undefined && !Array.isArray(v.set?.images)) throw new ConfigError('validation.set must be a loaded validation set (see loadValidationSet)');
  posInt('checkpoint.every', c.every);
  posInt('checkpoint.logEvery', c.logEvery);
  if (c.precision !== 'full' && c.precision !== 'compact') throw new ConfigError(`checkpoint.precision must be 'full' or 'compact', got ${String(c.precision)}`);
  if (r.resume === true && !r.out) throw new ConfigError('resume: true needs out (the run folder to continue)');
  return r;
}
