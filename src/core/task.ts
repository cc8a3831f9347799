import { AbortError } from '../errors';

/**
 * One progress report of a long-running task.
 *
 * @example
 * ```ts
 * const onProgress = (p: Progress) => console.log(`${p.stage} ${p.done}/${p.total}`);
 * ```
 */
export interface Progress {
  /** What is running, e.g. `'train'`, `'tile'`, `'teacher-cache'`. */
  stage: string;
  /** Units of work done so far. */
  done: number;
  /** Units of work in total, when known. */
  total?: number;
  /** Free-form figures for this report (loss, PSNR, steps/s, ...). */
  info?: Record<string, number | string>;
}

/**
 * Options every function that takes time accepts.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 10_000);
 * await student.sharpen('big.png', { signal: ac.signal, onProgress: (p) => console.log(p.done) });
 * ```
 */
export interface TaskOptions {
  /** Cancels the task; it then rejects with {@link AbortError}. */
  signal?: AbortSignal;
  /** Called as the task progresses. */
  onProgress?: (p: Progress) => void;
}

/**
 * Throws {@link AbortError} when the signal has been aborted.
 *
 * @example
 * ```ts
 * for (const tile of tiles) { throwIfAborted(opts.signal); ... }
 * ```
 */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const reason = signal.reason;
    if (reason instanceof AbortError) throw reason;
    throw new AbortError(
      reason instanceof Error && reason.name !== 'AbortError' ? `Aborted: ${reason.message}` : 'The operation was aborted.',
      { cause: reason },
    );
  }
}

/**
 * Yields to the event loop so that abort signals and timers can fire inside long synchronous loops.
 *
 * @example
 * ```ts
 * await yieldToEventLoop();
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
