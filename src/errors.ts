/**
 * Typed errors. Every error the library throws on purpose is a {@link SharpenError} with a stable
 * `code`, and its message says what to do about it.
 *
 * @example
 * ```ts
 * import { SharpenError } from 'sharpen-kd';
 * try { await Student.load('x4'); } catch (e) {
 *   if (e instanceof SharpenError && e.code === 'E_BACKEND') console.error(e.message);
 * }
 * ```
 */

/**
 * Stable machine-readable error codes.
 *
 * @example
 * ```ts
 * const retryable = (code: ErrorCode) => code === 'E_IO';
 * ```
 */
export type ErrorCode =
  | 'E_BACKEND'
  | 'E_INPUT'
  | 'E_SHAPE'
  | 'E_ABORT'
  | 'E_NAN'
  | 'E_CONFIG'
  | 'E_IO'
  | 'E_MODEL';

/**
 * Stable codes of the warnings passed to `onWarning` callbacks: `W_FIRST_FRAME` when only the first frame or page
 * of a multi-frame input is processed.
 *
 * @example
 * ```ts
 * const onWarning = (w: SharpenWarning) => w.code === 'W_FIRST_FRAME' && console.warn(w.message);
 * ```
 */
export type WarningCode = 'W_FIRST_FRAME';

/**
 * Something the caller should know about a result that is still produced, e.g. an animated GIF of which only the
 * first frame was sharpened. Passed to `onWarning` (`Student.sharpen`, `sharpenFiles`); the CLI prints it as a
 * `warning:` line on stderr.
 *
 * @example
 * ```ts
 * await student.sharpen('clip.gif', { format: 'png', onWarning: (w: SharpenWarning) => console.warn(w.message) });
 * ```
 */
export interface SharpenWarning {
  /** Stable code, safe to switch on. */
  code: WarningCode;
  /** One line, starting with the file name when there is one. */
  message: string;
  /** The file the warning is about, if any. */
  file?: string;
}

/**
 * Base class of every error thrown on purpose by sharpen-kd.
 *
 * @example
 * ```ts
 * if (err instanceof SharpenError) process.exitCode = err.code === 'E_INPUT' ? 2 : 1;
 * ```
 */
export class SharpenError extends Error {
  /** Stable code, safe to switch on. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A backend is missing, failed to initialise, or cannot run an operation.
 *
 * @example
 * ```ts
 * throw new BackendError('webgpu is not available: npm install @tensorflow/tfjs-backend-webgpu');
 * ```
 */
export class BackendError extends SharpenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BACKEND', message, options);
  }
}

/**
 * Bad user input: a corrupt, truncated, unsupported or empty file, or a value out of range.
 * `file` names the offending file when there is one.
 *
 * @example
 * ```ts
 * throw new InputError('not an image (unsupported format)', { file: 'notes.txt' });
 * ```
 */
export class InputError extends SharpenError {
  /** The file the error is about, if any. */
  readonly file?: string;
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super('E_INPUT', options?.file ? `${options.file}: ${message}` : message, options);
    this.file = options?.file;
  }
}

/**
 * A tensor or image has the wrong shape, rank or channel count.
 *
 * @example
 * ```ts
 * throw new ShapeError('expected [H, W, 3], got [2, 2]');
 * ```
 */
export class ShapeError extends SharpenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SHAPE', message, options);
  }
}

/**
 * The operation was cancelled through its `AbortSignal`.
 *
 * @example
 * ```ts
 * const ac = new AbortController(); ac.abort();
 * await distill({ ..., signal: ac.signal }).catch((e) => e instanceof AbortError); // true
 * ```
 */
export class AbortError extends SharpenError {
  constructor(message = 'The operation was aborted.', options?: { cause?: unknown }) {
    super('E_ABORT', message, options);
  }
}

/**
 * The training loss became NaN or infinite. The message names the step and suggests a fix.
 *
 * @example
 * ```ts
 * throw new NanLossError(120, 'lower the learning rate or enable gradient clipping');
 * ```
 */
export class NanLossError extends SharpenError {
  /** Training step at which the loss was not finite. */
  readonly step: number;
  constructor(step: number, hint = 'lower the learning rate (--lr), enable gradient clipping (--clip), or check the data for NaNs') {
    super('E_NAN', `Loss is not finite at step ${step}: ${hint}. The last good checkpoint is kept.`);
    this.step = step;
  }
}

/**
 * An options object failed validation.
 *
 * @example
 * ```ts
 * throw new ConfigError('scale must be 1, 2, 3 or 4, got 5');
 * ```
 */
export class ConfigError extends SharpenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CONFIG', message, options);
  }
}

/**
 * Reading or writing a file failed (permissions, disk full, missing directory).
 *
 * @example
 * ```ts
 * throw new IoError('cannot write out/x.png: EACCES');
 * ```
 */
export class IoError extends SharpenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_IO', message, options);
  }
}

/**
 * A model file or name could not be loaded, or its contents are inconsistent.
 *
 * @example
 * ```ts
 * throw new ModelError('unknown model "x5": use x1, x2, x4 or bicubic, or a path to model.json');
 * ```
 */
export class ModelError extends SharpenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_MODEL', message, options);
  }
}
