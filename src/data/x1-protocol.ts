/**
 * The ×1 (sharpening) benchmark protocols: how the input of a test image is made from its HR image.
 *
 * - `blind` (the default): every image gets its own random degradation from {@link BLIND_X1_DEGRADATION}, the
 *   pipeline of `degrade.ts` (`jpeg(noise(gaussBlur(motionBlur(hr))))`): a Gaussian blur with σ uniform in
 *   [0.5, 2.0] px, with probability 0.3 a linear motion blur of length uniform in [3, 9] px at a uniform angle,
 *   Gaussian noise with σ uniform in [0, 3] 8-bit levels, and JPEG at a quality uniform in [60, 95] (rounded),
 *   rounded to 8 bits after the blur and after the noise. The draw comes from `Rng(fnv1a32("<seed>:<name>"))`,
 *   `name` the file name without its extension and `seed` {@link BLIND_X1_SEED} unless given, so an image's
 *   degradation does not depend on which other images are scored or in which order. The model never sees the
 *   kernel; the oracle baseline does.
 * - `gaussian`: the HR image blurred with a Gaussian of σ = 1 (or `blurSigma`), rounded to 8 bits. A fixed, known
 *   kernel: a linear deconvolution that knows it beats a blind method, so this protocol measures little; it is
 *   kept to compare with earlier results.
 * - `sharp`: an image that needs no sharpening, as photos are usually stored: the HR image as JPEG at quality
 *   {@link SHARP_X1_JPEG_QUALITY}, no blur, no noise. It asks whether a sharpener leaves such an image alone (a
 *   sharpener that is not told how blurred its input is may add halos and noise to it); the input itself is the score
 *   to keep.
 *
 * Scoring is the same for all of them (see `infer/evaluate.ts`): Y-PSNR / Y-SSIM with a 1-pixel border ignored.
 */
import { Rng } from '../core/rng';
import { ConfigError } from '../errors';
import { convolveSeparable, gaussianTaps } from './blur';
import { degradeImage, resolveDegradation, sampleDegradation, BLIND_X1_DEGRADATION, type DegradationParams } from './degrade';
import { rgbFromRaw } from './pixels';
import { fromFloatRgb, toFloatRgb, type RawImage } from '../io/raw-image';

export { BLIND_X1_DEGRADATION };

/**
 * The ×1 protocols (see the module doc).
 *
 * @example
 * ```ts
 * const p: X1Protocol = 'blind';
 * ```
 */
export type X1Protocol = 'blind' | 'gaussian' | 'sharp';

/**
 * Every ×1 protocol name, for validation and help texts.
 *
 * @example
 * ```ts
 * X1_PROTOCOLS.includes('blind'); // true
 * ```
 */
export const X1_PROTOCOLS: readonly X1Protocol[] = ['blind', 'gaussian', 'sharp'];

/**
 * JPEG quality of the `sharp` protocol's input (see the module doc).
 *
 * @example
 * ```ts
 * SHARP_X1_JPEG_QUALITY; // 90
 * ```
 */
export const SHARP_X1_JPEG_QUALITY = 90;

/**
 * The seed of the published blind ×1 benchmark.
 *
 * @example
 * ```ts
 * const params = blindX1Params('baby', BLIND_X1_SEED);
 * ```
 */
export const BLIND_X1_SEED = 1;

/**
 * 32-bit FNV-1a hash of a string's UTF-16 code units (the per-image seed of the blind protocol).
 *
 * @example
 * ```ts
 * fnv1a32('1:baby'); // a uint32
 * ```
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The degradation the blind protocol gives the image `name` (file name without extension) for `seed`.
 *
 * @example
 * ```ts
 * const { sigma, motion, noise, jpegQuality } = blindX1Params('baby');
 * ```
 */
export function blindX1Params(name: string, seed = BLIND_X1_SEED): DegradationParams {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError(`seed must be an integer from 0 to 4294967295, got ${seed}`);
  return sampleDegradation(new Rng(fnv1a32(`${seed}:${name}`)), resolveDegradation(1, BLIND_X1_DEGRADATION));
}

/**
 * The `gaussian` protocol's input: the HR image blurred with a Gaussian of `sigma` (taps `gaussianTaps`, mirrored
 * borders), rounded to 8 bits.
 *
 * @throws ConfigError for σ outside (0, 10].
 * @example
 * ```ts
 * const lr = gaussianX1Input(hr, 1);
 * ```
 */
export function gaussianX1Input(hr: RawImage, sigma = 1): RawImage {
  if (!(Number.isFinite(sigma) && sigma > 0 && sigma <= 10)) throw new ConfigError(`blur sigma must be in (0, 10], got ${sigma}`);
  return fromFloatRgb(convolveSeparable(toFloatRgb(hr), hr.width, hr.height, gaussianTaps(sigma)), hr.width, hr.height, 8);
}

/**
 * Options of {@link degradeX1}.
 *
 * @example
 * ```ts
 * const o: X1DegradeOptions = { protocol: 'gaussian', blurSigma: 1.5 };
 * ```
 */
export interface X1DegradeOptions {
  /** Default `'blind'`. */
  protocol?: X1Protocol;
  /** `blind`: the seed (default {@link BLIND_X1_SEED}). */
  seed?: number;
  /** `gaussian`: σ of the blur (default 1). */
  blurSigma?: number;
}

/**
 * The input a ×1 protocol feeds the model for the 8-bit HR image `name`, and the degradation it applied
 * (`sigma` and `motion` are the kernel; the `gaussian` protocol reports `{ sigma: blurSigma }` and nothing else).
 *
 * @throws ConfigError for an unknown protocol or a bad seed / σ; JPEG needs sharp (Node).
 * @example
 * ```ts
 * const { lr, params } = await degradeX1(hr, 'baby'); // blind, seed BLIND_X1_SEED
 * ```
 */
export async function degradeX1(hr: RawImage, name: string, opts: X1DegradeOptions = {}): Promise<{ lr: RawImage; params: DegradationParams }> {
  const protocol = opts.protocol ?? 'blind';
  if (protocol === 'gaussian') {
    const sigma = opts.blurSigma ?? 1;
    return { lr: gaussianX1Input(hr, sigma), params: { sigma, motion: null, noise: 0, noiseSeed: 0, jpegQuality: 0 } };
  }
  const cfg = resolveDegradation(1, BLIND_X1_DEGRADATION);
  if (protocol === 'sharp') {
    const params: DegradationParams = { sigma: 0, motion: null, noise: 0, noiseSeed: 0, jpegQuality: SHARP_X1_JPEG_QUALITY };
    const out = await degradeImage(rgbFromRaw(hr), cfg, params);
    return { lr: fromFloatRgb(out.data, out.width, out.height, 8), params };
  }
  if (protocol !== 'blind') throw new ConfigError(`unknown x1 protocol "${String(protocol)}": use ${X1_PROTOCOLS.join(' or ')}`);
  const params = blindX1Params(name, opts.seed);
  const out = await degradeImage(rgbFromRaw(hr), cfg, params);
  return { lr: fromFloatRgb(out.data, out.width, out.height, 8), params };
}

/**
 * A short text of one degradation draw, e.g. `blur σ 1.23, motion 5.5 px at 40°, noise 1.2, JPEG q75`.
 *
 * @example
 * ```ts
 * console.log(describeDegradationParams(blindX1Params('baby')));
 * ```
 */
export function describeDegradationParams(p: DegradationParams): string {
  const parts = [p.sigma > 0 ? `blur σ ${p.sigma.toFixed(2)}` : 'no blur'];
  if (p.motion) parts.push(`motion ${p.motion.length.toFixed(1)} px at ${Math.round((p.motion.angle * 180) / Math.PI)}°`);
  if (p.noise > 0) parts.push(`noise ${p.noise.toFixed(1)}`);
  if (p.jpegQuality > 0) parts.push(`JPEG q${p.jpegQuality}`);
  return parts.join(', ');
}
