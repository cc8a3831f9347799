/** Learning-rate schedules with linear warmup. */
import { ConfigError } from '../errors';

/**
 * Schedule shapes.
 *
 * @example
 * ```ts
 * const kind: ScheduleKind = 'cosine';
 * ```
 */
export type ScheduleKind = 'cosine' | 'step' | 'constant';

/**
 * A learning-rate schedule.
 *
 * @example
 * ```ts
 * const s: ScheduleOptions = { kind: 'cosine', lr: 1e-3, steps: 10_000, warmup: 200, minLr: 1e-5 };
 * ```
 */
export interface ScheduleOptions {
  kind?: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** Total steps (cosine decays over them). */
  steps: number;
  /** Linear warmup steps from ~0 to `lr` (default 0). */
  warmup?: number;
  /** Cosine: final learning rate (default `lr / 100`). */
  minLr?: number;
  /** Step: multiply by `gamma` every `stepSize` steps (defaults: 0.5 every steps/4). */
  stepSize?: number;
  gamma?: number;
  /**
   * Step the schedule starts after (default 0). With `start: s`, warmup and decay run over steps `s + 1 .. steps`:
   * a fresh cycle for a run resumed at step `s` (e.g. a low-learning-rate fine-tune of a finished run).
   */
  start?: number;
}

/**
 * Validates a schedule (throws {@link ConfigError}).
 *
 * @example
 * ```ts
 * checkSchedule({ kind: 'step', lr: 1e-3, steps: 1000, stepSize: 250, gamma: 0.5 });
 * ```
 */
export function checkSchedule(s: ScheduleOptions): void {
  const kind = s.kind ?? 'cosine';
  if (!['cosine', 'step', 'constant'].includes(kind)) throw new ConfigError(`schedule must be cosine, step or constant, got ${String(kind)}`);
  if (!(s.lr > 0 && Number.isFinite(s.lr))) throw new ConfigError(`learning rate must be a positive number, got ${s.lr}`);
  if (!(Number.isInteger(s.steps) && s.steps >= 1)) throw new ConfigError(`steps must be a positive integer, got ${s.steps}`);
  const start = s.start ?? 0;
  if (!(Number.isInteger(start) && start >= 0 && start < s.steps)) throw new ConfigError(`schedule start must be an integer in [0, steps), got ${start}`);
  const warmup = s.warmup ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new ConfigError(`warmup must be a non-negative integer, got ${warmup}`);
  if (s.minLr !== undefined && !(s.minLr >= 0 && s.minLr <= s.lr)) throw new ConfigError(`minLr must be in [0, lr], got ${s.minLr}`);
  if (s.stepSize !== undefined && !(Number.isInteger(s.stepSize) && s.stepSize >= 1)) throw new ConfigError(`stepSize must be a positive integer, got ${s.stepSize}`);
  if (s.gamma !== undefined && !(s.gamma > 0 && s.gamma <= 1)) throw new ConfigError(`gamma must be in (0, 1], got ${s.gamma}`);
}

/**
 * Learning rate for 1-based `globalStep` (counted from `start`): linear warmup over `warmup` steps, then cosine (to
 * `minLr`), step decay or constant.
 *
 * @example
 * ```ts
 * learningRateAt(1, { lr: 1e-3, steps: 100, warmup: 10 }); // 1e-4
 * learningRateAt(100, { lr: 1e-3, steps: 100 });           // 1e-5 (cosine end)
 * learningRateAt(41, { lr: 1e-4, steps: 60, start: 40 });  // 1e-4 (a new cycle over steps 41..60)
 * ```
 */
export function learningRateAt(globalStep: number, schedule: ScheduleOptions): number {
  const start = schedule.start ?? 0;
  const step = globalStep - start;
  const s = start ? { ...schedule, steps: schedule.steps - start } : schedule;
  const warmup = s.warmup ?? 0;
  if (step <= warmup) return (s.lr * step) / (warmup + 1);
  const kind = s.kind ?? 'cosine';
  if (kind === 'constant') return s.lr;
  if (kind === 'step') {
    const size = s.stepSize ?? Math.max(1, Math.floor(s.steps / 4));
    return s.lr * (s.gamma ?? 0.5) ** Math.floor((step - warmup - 1) / size);
  }
  const minLr = s.minLr ?? s.lr / 100;
  const span = Math.max(1, s.steps - warmup);
  const t = Math.min(1, (step - warmup) / span);
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * t));
}
