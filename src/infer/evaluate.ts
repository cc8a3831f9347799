/**
 * Benchmark evaluation as in the super-resolution literature (Set5, Set14, ...): each HR image is mod-cropped
 * to a multiple of the scale, downscaled with MATLAB bicubic (antialiased, rounded to 8 bits), sharpened, rounded
 * to 8 bits, and scored on the BT.601 Y channel with a border of `scale` pixels ignored. Scores are averaged
 * over images. At scale 1 (sharpening) the input comes from a ×1 protocol (`data/x1-protocol.ts`): by default
 * `blind`, a random blur / noise / JPEG per image drawn from a fixed seed and the image's name; or `gaussian`, the
 * HR image blurred with a Gaussian of `blurSigma` (σ = 1), the earlier, easier protocol. The border is 1 pixel.
 * A gray HR image (Set14's bridge.png) is scored as its own Y, as the literature's MATLAB scripts do: the model
 * gets it as RGB (gray replicated) and its output is reduced to luma (see `metrics/y-channel.ts`).
 */
import { throwIfAborted, type TaskOptions } from '../core/task';
import { ConfigError, InputError } from '../errors';
import type { DegradationParams } from '../data/degrade';
import { BLIND_X1_SEED, degradeX1, gaussianX1Input, X1_PROTOCOLS, type X1Protocol } from '../data/x1-protocol';
import { modCrop } from '../metrics/mod-crop';
import { psnr } from '../metrics/psnr';
import { resizeBicubic } from '../metrics/resize-bicubic';
import { ssim } from '../metrics/ssim';
import type { RawImage } from '../io/raw-image';
import { toFloatRgb, fromFloatRgb } from '../io/raw-image';
import { IMAGE_EXTENSIONS } from './batch';
import { pixelsToRaw } from './inputs';
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

/** Lists the images of a folder (sorted), or the file itself. */
async function listImages(dir: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const st = await fs.stat(dir).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`no such folder (${e.code ?? e.message})`, { file: dir, cause: e });
  });
  if (!st.isDirectory()) return [dir];
  const names = (await fs.readdir(dir)).filter((n) => !n.startsWith('.') && IMAGE_EXTENSIONS.includes(path.extname(n).toLowerCase())).sort();
  if (names.length === 0) throw new InputError('folder has no images', { file: dir });
  return names.map((n) => path.join(dir, n));
}

/** The low-quality input of the scale > 1 protocol (and of the `gaussian` ×1 protocol at scale 1). */
export function degradeForEval(hr: RawImage, scale: number, blurSigma = 1): RawImage {
  if (scale > 1) return resizeBicubic(hr, 1 / scale) as RawImage;
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
  const { decodeImageWithProfile } = await import('../io/node-image');
  const fs = await import('node:fs/promises');
  const files = await listImages(hrDir);
  const images: EvaluationReport['images'] = [];
  for (const [i, file] of files.entries()) {
    throwIfAborted(opts.signal);
    const { image } = await decodeImageWithProfile(await fs.readFile(file), file, { maxPixels: opts.maxPixels });
    // The model sees 8-bit RGB (gray replicated, alpha dropped), like the literature's uint8 images.
    const hr8 = image.bits === 8 && image.channels === 3 ? image : fromFloatRgb(toFloatRgb(image), image.width, image.height, 8);
    const hr = modCrop(hr8, scale);
    const name = path.basename(file, path.extname(file));
    const { lr, params } = protocol ? await degradeX1(hr, name, { protocol: protocol.name, seed: protocol.seed, blurSigma: protocol.blurSigma }) : { lr: degradeForEval(hr, scale), params: undefined };
    const sr = await upscale(lr, opts.signal, { name, degradation: params });
    if (sr.width !== hr.width || sr.height !== hr.height) {
      throw new ConfigError(`${opts.model} returned ${sr.width}x${sr.height} for a ${hr.width}x${hr.height} target: is its scale ${scale}?`);
    }
    // A gray HR image is its own Y (not studio-range Y of replicated RGB): score against the gray plane.
    const target = image.channels < 3 ? firstChannel(hr) : hr;
    const m = { yChannel: true, crop: scale };
    images.push({ name, psnr: await psnr(sr, target, m), ssim: await ssim(sr, target, m), ...(params ? { degradation: params } : {}) });
    opts.onProgress?.({ stage: 'eval', done: i + 1, total: files.length, info: { psnr: images[i].psnr } });
  }
  const mean = (k: 'psnr' | 'ssim') => images.reduce((a, r) => a + r[k], 0) / images.length;
  return { model: opts.model, backend: opts.backend, scale, n: images.length, ...(protocol ? { protocol } : {}), psnr: mean('psnr'), ssim: mean('ssim'), images };
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
  const blurSigma = opts.blurSigma ?? 1;
  if (!(Number.isFinite(blurSigma) && blurSigma > 0 && blurSigma <= 10)) throw new ConfigError(`blurSigma must be in (0, 10], got ${blurSigma}`);
  return { name, blurSigma };
}

/** The first channel of an 8-bit image, as a gray image (R of a gray image replicated to RGB is the gray). */
function firstChannel(img: RawImage): RawImage {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i * img.channels];
  return { data, width: img.width, height: img.height, channels: 1, bits: 8 };
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
    pixelsToRaw(await student.sharpenPixels({ data: lr.data, width: lr.width, height: lr.height, channels: lr.channels, max: 255 }, { tile: opts.tile, signal, maxOutputPixels: Infinity }));
  return evaluateUpscaler(upscale, hrDir, { ...opts, model: student.info.name, backend: student.info.backend });
}
