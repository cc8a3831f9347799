/**
 * Benchmark evaluation of a model on a folder of HR images (Set5, Set14, ...) with the literature's protocol
 * (`metrics/protocol.ts`: mod-crop, MATLAB bicubic input, 8-bit output, Y-PSNR / Y-SSIM with a `scale`-pixel
 * border). At scale 1 (sharpening) the input comes from a ×1 protocol (`data/x1-protocol.ts`): by default
 * `blind`, a random blur / noise / JPEG per image drawn from a fixed seed and the image's name; or `gaussian`, the
 * HR image blurred with a Gaussian of `blurSigma` (σ = 1), the earlier, easier protocol. The border is 1 pixel.
 */
import { throwIfAborted, type TaskOptions } from '../core/task';
import { ConfigError, InputError } from '../errors';
import type { DegradationParams } from '../data/degrade';
import { BLIND_X1_SEED, degradeX1, gaussianX1Input, X1_PROTOCOLS, type X1Protocol } from '../data/x1-protocol';
import { listImageFiles } from '../io/image-files';
import type { RawImage } from '../io/raw-image';
import { bicubicInput, meanScores, protocolReference, scoreImage } from '../metrics/protocol';
import { integerImage } from './inputs';
import type { Student } from './student';

/**
 * Options of {@link evaluateStudent}.
 *
 * @example
 * ```ts
 * const opts: EvaluateOptions = { scale: 4 };
 * const fixedBlur: EvaluateOptions = { scale: 1, protocol: 'gaussian', blurSigma: 1 };
 * ```
 */
export interface EvaluateOptions extends TaskOptions {
  /** Scale of the protocol; must equal the student's. */
  scale: number;
  /** Scale 1 only: how the input is made, `'blind'` (default) or `'gaussian'` (see `data/x1-protocol.ts`). */
  protocol?: X1Protocol;
  /** Scale 1, `blind` protocol: the seed of the per-image degradations (default `BLIND_X1_SEED`, 1). */
  seed?: number;
  /** Scale 1, `gaussian` protocol: σ of the Gaussian blur that makes the input (default 1). */
  blurSigma?: number;
  /** Tile size (input pixels) passed to the student. */
  tile?: number;
  /** Refuse HR images with more pixels than this, from their header (default `DEFAULT_MAX_PIXELS`, 268,402,689). */
  maxPixels?: number;
}

/**
 * What {@link evaluateStudent} returns.
 *
 * @example
 * ```ts
 * console.log(`${report.psnr.toFixed(2)} dB / ${report.ssim.toFixed(4)} on ${report.n} images`);
 * ```
 */
export interface EvaluationReport {
  model: string;
  backend: string;
  /** `'int8'` when the student ran its int8 graph (see {@link StudentLoadOptions.precision}); absent for float. */
  precision?: 'int8';
  scale: number;
  /** Number of images scored. */
  n: number;
  /** Scale 1: the protocol, e.g. `{ name: 'blind', seed: 1 }` or `{ name: 'gaussian', blurSigma: 1 }`. */
  protocol?: { name: X1Protocol; seed?: number; blurSigma?: number };
  /** Mean Y-PSNR (dB) and Y-SSIM. */
  psnr: number;
  ssim: number;
  /** Per image; at scale 1 with the degradation it was given. */
  images: Array<{ name: string; psnr: number; ssim: number; degradation?: DegradationParams }>;
}

/**
 * What an upscaler passed to `evaluateUpscaler` learns about the current image besides its pixels: its name
 * and, at scale 1, the degradation the protocol applied (the true kernel, which only an oracle may use).
 *
 * @example
 * ```ts
 * const oracle = async (lr: RawImage, _s?: AbortSignal, info?: EvalImageInfo) => deconvolve(lr, info!.degradation!);
 * ```
 */
export interface EvalImageInfo {
  name: string;
  degradation?: DegradationParams;
}

/** The low-quality input of the scale > 1 protocol (and of the `gaussian` ×1 protocol at scale 1). */
export function degradeForEval(hr: RawImage, scale: number, blurSigma = 1): RawImage {
  if (scale > 1) return bicubicInput(hr, scale);
  return gaussianX1Input(hr, blurSigma);
}

/**
 * @internal Turns any upscaler into a protocol-conforming scorer: `upscale` receives the 8-bit RGB input the
 * protocol builds and must return the 8-bit RGB result (`scale` times larger). {@link evaluateStudent} is this
 * with a Student; the published results use it for resamplers that are not models (sharp's lanczos3).
 *
 * @example
 * ```ts
 * const r = await evaluateUpscaler((lr) => myResize(lr, 4), 'Set5/HR', { scale: 4, model: 'mine', backend: 'js' });
 * ```
 */
export async function evaluateUpscaler(
  upscale: (lr: RawImage, signal?: AbortSignal, info?: EvalImageInfo) => Promise<RawImage>,
  hrDir: string,
  opts: EvaluateOptions & { model: string; backend: string },
): Promise<EvaluationReport> {
  const { scale } = opts;
  if (!Number.isInteger(scale) || scale < 1) throw new ConfigError(`scale must be a positive integer, got ${scale}`);
  const protocol = x1Protocol(opts);
  const path = await import('node:path');
  const { readImageAsStored } = await import('../io/node-image');
  const files = await listImageFiles(hrDir);
  const images: EvaluationReport['images'] = [];
  for (const [i, file] of files.entries()) {
    throwIfAborted(opts.signal);
    const image = await readImageAsStored(file, { maxPixels: opts.maxPixels });
    const { rgb: hr, target } = protocolReference(image, scale);
    const name = path.basename(file, path.extname(file));
    const { lr, params } = protocol ? await degradeX1(hr, name, { protocol: protocol.name, seed: protocol.seed, blurSigma: protocol.blurSigma }) : { lr: degradeForEval(hr, scale), params: undefined };
    const sr = await upscale(lr, opts.signal, { name, degradation: params });
    if (sr.width !== hr.width || sr.height !== hr.height) {
      throw new ConfigError(`${opts.model} returned ${sr.width}x${sr.height} for a ${hr.width}x${hr.height} target: is its scale ${scale}?`);
    }
    images.push({ name, ...(await scoreImage(sr, target, scale)), ...(params ? { degradation: params } : {}) });
    opts.onProgress?.({ stage: 'eval', done: i + 1, total: files.length, info: { psnr: images[i].psnr } });
  }
  return { model: opts.model, backend: opts.backend, scale, n: images.length, ...(protocol ? { protocol } : {}), ...meanScores(images), images };
}

/** The scale-1 protocol the options ask for (validated), or undefined at scale > 1. */
function x1Protocol(opts: EvaluateOptions): EvaluationReport['protocol'] {
  if (opts.scale !== 1) {
    if (opts.protocol !== undefined && opts.protocol !== 'blind') throw new ConfigError(`the ${opts.protocol} protocol is for scale 1; scale ${opts.scale} uses bicubic downscaling`);
    return undefined;
  }
  const name = opts.protocol ?? 'blind';
  if (!X1_PROTOCOLS.includes(name)) throw new ConfigError(`unknown x1 protocol "${String(name)}": use ${X1_PROTOCOLS.join(' or ')}`);
  if (name === 'blind') {
    if (opts.blurSigma !== undefined) throw new ConfigError('blurSigma applies to the gaussian protocol; the blind protocol draws its own blur');
    const seed = opts.seed ?? BLIND_X1_SEED;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError(`seed must be an integer from 0 to 4294967295, got ${seed}`);
    return { name, seed };
  }
  if (opts.seed !== undefined) throw new ConfigError('seed applies to the blind protocol');
  if (name === 'sharp') {
    if (opts.blurSigma !== undefined) throw new ConfigError('blurSigma applies to the gaussian protocol; the sharp protocol does not blur');
    return { name };
  }
  const blurSigma = opts.blurSigma ?? 1;
  if (!(Number.isFinite(blurSigma) && blurSigma > 0 && blurSigma <= 10)) throw new ConfigError(`blurSigma must be in (0, 10], got ${blurSigma}`);
  return { name, blurSigma };
}

/**
 * Scores a student on a folder of HR images with the literature's protocol (see the module doc).
 *
 * @throws ConfigError when `scale` differs from the student's; InputError for a missing folder or bad image.
 * @example
 * ```ts
 * using s = await Student.load('x4');
 * const r = await evaluateStudent(s, '../shared/data/Set5/HR', { scale: 4 }); // r.psnr, r.ssim
 * ```
 */
export async function evaluateStudent(student: Student, hrDir: string, opts: EvaluateOptions): Promise<EvaluationReport> {
  const { scale } = opts;
  if (student.scale !== scale) throw new ConfigError(`model ${student.info.name} upscales by ${student.scale}, but --scale is ${scale}`);
  const upscale = async (lr: RawImage, signal?: AbortSignal) =>
    // The output is the HR image's size, already bounded by maxPixels.
    integerImage(await student.sharpenPixels(lr, { tile: opts.tile, signal, maxOutputPixels: Infinity }));
  const report = await evaluateUpscaler(upscale, hrDir, { ...opts, model: student.info.name, backend: student.info.backend });
  return student.info.precision === 'int8' ? { ...report, precision: 'int8' } : report;
}
