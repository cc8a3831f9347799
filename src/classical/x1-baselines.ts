/**
 * The classical ×1 (sharpening) baselines of the benchmark, each scored through the same protocol as the models
 * (`evaluateUpscaler`): the degraded input itself, sharp's `sharpen()` with its defaults and tuned, the blind
 * Wiener deconvolution, and the oracle Wiener deconvolution that is handed the true kernel (a reference: no real
 * photo comes with its kernel).
 */
import { ConfigError } from '../errors';
import { evaluateUpscaler, type EvalImageInfo, type EvaluateOptions, type EvaluationReport } from '../infer/evaluate';
import type { RawImage } from '../io/raw-image';
import { blindDeconvolve } from './blind';
import { wienerDeconvolve } from './deconvolve';
import { SHARP_SHARPEN_X1, sharpSharpen } from './sharp-sharpen';

/**
 * Names of the ×1 baselines.
 *
 * @example
 * ```ts
 * const b: X1BaselineName = 'wiener-blind';
 * ```
 */
export type X1BaselineName = 'input' | 'sharp-default' | 'sharp-tuned' | 'wiener-blind' | 'wiener-oracle';

/**
 * Every ×1 baseline, in table order, with a one-line description.
 *
 * @example
 * ```ts
 * for (const [name, label] of Object.entries(X1_BASELINES)) console.log(name, label);
 * ```
 */
export const X1_BASELINES: Readonly<Record<X1BaselineName, string>> = Object.freeze({
  input: 'degraded input (no sharpening)',
  'sharp-default': 'sharp sharpen(), defaults',
  'sharp-tuned': 'sharp sharpen(), tuned on the training sets',
  'wiener-blind': 'blind deconvolution: σ from the re-blur gradient ratio, then Wiener',
  'wiener-oracle': 'oracle: Wiener deconvolution given the true kernel (reference)',
});

/**
 * The function that restores an image for a baseline: `(lr, signal, info) => restored`, as `evaluateUpscaler`
 * calls it. The oracle reads the true kernel from `info.degradation`.
 *
 * @throws ConfigError for an unknown name; the oracle's function throws ConfigError when `info` has no degradation.
 * @example
 * ```ts
 * const restore = x1Baseline('wiener-blind');
 * const out = await restore(blurred);
 * ```
 */
export function x1Baseline(name: X1BaselineName): (lr: RawImage, signal?: AbortSignal, info?: EvalImageInfo) => Promise<RawImage> {
  switch (name) {
    case 'input':
      return async (lr) => lr;
    case 'sharp-default':
      return (lr) => sharpSharpen(lr, 'default');
    case 'sharp-tuned':
      return (lr) => sharpSharpen(lr, SHARP_SHARPEN_X1);
    case 'wiener-blind':
      return async (lr) => blindDeconvolve(lr).image;
    case 'wiener-oracle':
      return async (lr, _signal, info) => {
        const d = info?.degradation;
        if (!d) throw new ConfigError('the oracle needs the true kernel: run it through evaluateX1Baseline / a x1 protocol');
        return wienerDeconvolve(lr, { sigma: d.sigma, motion: d.motion });
      };
    default:
      throw new ConfigError(`unknown x1 baseline "${String(name)}": use ${Object.keys(X1_BASELINES).join(', ')}`);
  }
}

/**
 * Scores a ×1 baseline on a folder of HR images with a ×1 protocol (default blind), exactly as
 * `evaluateStudent` scores a model (`sharpen-kd eval --scale 1 --baseline <name>`).
 *
 * @throws ConfigError for an unknown name or protocol; InputError for a missing folder or bad image.
 * @example
 * ```ts
 * const r = await evaluateX1Baseline('wiener-blind', '../shared/data/Set5/HR'); // r.psnr, r.ssim
 * ```
 */
export async function evaluateX1Baseline(name: X1BaselineName, hrDir: string, opts: Omit<EvaluateOptions, 'scale' | 'tile'> = {}): Promise<EvaluationReport> {
  const restore = x1Baseline(name);
  return evaluateUpscaler(restore, hrDir, { ...opts, scale: 1, model: name, backend: name.startsWith('sharp') ? 'sharp (libvips)' : 'js' });
}
