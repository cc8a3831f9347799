/**
 * Degradations: how an LR training input is made from an HR image.
 *
 * `lr = jpeg(noise(downscale(motionBlur(gaussBlur(hr)))))`: the classical model `y = (x ⊗ k)↓s + n` followed by
 * compression. Downscaling is MATLAB bicubic (the literature's protocol) for scale > 1; the blurs, noise and JPEG are
 * each optional, drawn per patch with a probability and a parameter range, and are all seeded.
 * Defaults: scale > 1 is plain bicubic; scale 1 (sharpening) is {@link BLIND_X1_DEGRADATION}, the distribution of the
 * blind ×1 benchmark (Gaussian blur, sometimes motion blur, mild noise, JPEG).
 */
import { ConfigError } from '../errors';
import { Rng } from '../core/rng';
import type { ImageSamples, RawImage } from '../io/raw-image';
import { imresizeFloat } from '../metrics/imresize';
import { convolveSeparable, convolveSparse, gaussianTaps, motionKernel } from './blur';
import { downscaleCrop, downscalePlan, BICUBIC_MARGIN_LR, type DownscalePlan } from './downscale';
import { jpegRoundTrip } from './jpeg';
import { cropReflect, quantize8 } from './pixels';
import type { Scale } from './types';

/**
 * A degradation drawn with probability `prob` (default 1) and a parameter uniform in `range`.
 *
 * @example
 * ```ts
 * const blur: RandomDegradation = { prob: 0.5, range: [0.5, 1.5] };
 * ```
 */
export interface RandomDegradation {
  prob?: number;
  range?: [number, number];
}

/**
 * Options of the degradation pipeline. Each stage is `false` (off) or `{ prob, range }`; omitted stages take the
 * defaults for the scale (see the module doc).
 *
 * @example
 * ```ts
 * const deg: DegradationOptions = { blur: { prob: 1, range: [0.5, 2] }, noise: false, jpeg: { prob: 0.5, range: [70, 95] } };
 * ```
 */
export interface DegradationOptions {
  /** Round LR to 8-bit levels (as LR files on disk are, and as MATLAB does for uint8); default true. */
  quantize?: boolean;
  /** Gaussian blur; `range` is σ in HR pixels. */
  blur?: RandomDegradation | false;
  /** Linear motion blur at a uniform random angle; `range` is the length in HR pixels. */
  motionBlur?: RandomDegradation | false;
  /** Additive Gaussian noise; `range` is σ in 8-bit levels (0–255). */
  noise?: RandomDegradation | false;
  /** JPEG compression (sharp, Node only); `range` is the quality (1–100). */
  jpeg?: RandomDegradation | false;
}

/**
 * A validated degradation setup (see {@link resolveDegradation}).
 *
 * @example
 * ```ts
 * const cfg: ResolvedDegradation = resolveDegradation(1, { jpeg: false });
 * ```
 */
export interface ResolvedDegradation {
  scale: Scale;
  quantize: boolean;
  blur: Required<RandomDegradation> | null;
  motionBlur: Required<RandomDegradation> | null;
  noise: Required<RandomDegradation> | null;
  jpeg: Required<RandomDegradation> | null;
}

/**
 * One draw of the pipeline's random parameters (0 / null = stage skipped).
 *
 * @example
 * ```ts
 * const p: DegradationParams = { sigma: 1, motion: null, noise: 0, noiseSeed: 1, jpegQuality: 0 };
 * ```
 */
export interface DegradationParams {
  sigma: number;
  motion: { length: number; angle: number } | null;
  noise: number;
  noiseSeed: number;
  jpegQuality: number;
}

/**
 * The blind ×1 degradation: the default of scale-1 training and the draw of the blind ×1 benchmark
 * (`data/x1-protocol.ts`). Gaussian blur σ ∈ [0.5, 2] px always; motion blur of 3–9 px with probability 0.3;
 * Gaussian noise σ ∈ [0, 3] levels always; JPEG quality 60–95 always.
 *
 * @example
 * ```ts
 * const cfg = resolveDegradation(1, BLIND_X1_DEGRADATION); // the same as resolveDegradation(1)
 * ```
 */
export const BLIND_X1_DEGRADATION: Readonly<Record<'blur' | 'motionBlur' | 'noise' | 'jpeg', Readonly<Required<RandomDegradation>>>> = Object.freeze({
  blur: Object.freeze({ prob: 1, range: [0.5, 2] as [number, number] }),
  motionBlur: Object.freeze({ prob: 0.3, range: [3, 9] as [number, number] }),
  noise: Object.freeze({ prob: 1, range: [0, 3] as [number, number] }),
  jpeg: Object.freeze({ prob: 1, range: [60, 95] as [number, number] }),
});

const DEFAULTS_X1 = BLIND_X1_DEGRADATION;

const LIMITS: Record<'blur' | 'motionBlur' | 'noise' | 'jpeg', [number, number]> = {
  blur: [0.05, 10],
  motionBlur: [1, 41],
  noise: [0, 100],
  jpeg: [1, 100],
};

function resolveStage(name: keyof typeof LIMITS, v: RandomDegradation | false | undefined, scale: Scale): Required<RandomDegradation> | null {
  if (v === false) return null;
  const def = scale === 1 ? DEFAULTS_X1[name] : undefined;
  if (v === undefined && !def) return null;
  const prob = v?.prob ?? (v ? 1 : def!.prob);
  const range = (v?.range ?? def?.range) as [number, number] | undefined;
  if (!range) throw new ConfigError(`degradation "${name}" needs a range, e.g. { range: [${LIMITS[name].join(', ')}] }`);
  if (!(prob >= 0 && prob <= 1)) throw new ConfigError(`degradation "${name}": prob must be in [0, 1], got ${prob}`);
  const [lo, hi] = range;
  const [min, max] = LIMITS[name];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi && lo >= min && hi <= max)) {
    throw new ConfigError(`degradation "${name}": range must be [lo, hi] with ${min} <= lo <= hi <= ${max}, got [${lo}, ${hi}]`);
  }
  return { prob, range: [lo, hi] };
}

/**
 * Validates degradation options and fills the defaults for `scale`.
 *
 * @example
 * ```ts
 * const cfg = resolveDegradation(1, { jpeg: false });
 * ```
 */
export function resolveDegradation(scale: Scale, opts: DegradationOptions = {}): ResolvedDegradation {
  if (![1, 2, 3, 4].includes(scale)) throw new ConfigError(`scale must be 1, 2, 3 or 4, got ${scale}`);
  return {
    scale,
    quantize: opts.quantize ?? true,
    blur: resolveStage('blur', opts.blur, scale),
    motionBlur: resolveStage('motionBlur', opts.motionBlur, scale),
    noise: resolveStage('noise', opts.noise, scale),
    jpeg: resolveStage('jpeg', opts.jpeg, scale),
  };
}

/** A short text of the setup, for cache keys and logs. */
export function describeDegradation(cfg: ResolvedDegradation): string {
  const st = (n: string, v: Required<RandomDegradation> | null) => (v ? `${n}(${v.prob};${v.range[0]}-${v.range[1]})` : '');
  return [`x${cfg.scale}`, cfg.quantize ? 'q8' : 'float', st('blur', cfg.blur), st('motion', cfg.motionBlur), st('noise', cfg.noise), st('jpeg', cfg.jpeg)]
    .filter(Boolean)
    .join(' ');
}

/**
 * Draws the random parameters of one degradation. Always consumes the same number of draws, whatever is skipped.
 *
 * @example
 * ```ts
 * const params = sampleDegradation(new Rng(1), resolveDegradation(1));
 * ```
 */
export function sampleDegradation(rng: Rng, cfg: ResolvedDegradation): DegradationParams {
  const u = Array.from({ length: 9 }, () => rng.next());
  const pick = (s: Required<RandomDegradation> | null, gate: number, t: number) =>
    s && gate < s.prob ? s.range[0] + (s.range[1] - s.range[0]) * t : 0;
  const length = pick(cfg.motionBlur, u[2], u[3]);
  return {
    sigma: pick(cfg.blur, u[0], u[1]),
    motion: length > 0 ? { length, angle: u[4] * Math.PI } : null,
    noise: pick(cfg.noise, u[5], u[6]),
    noiseSeed: Math.floor(u[7] * 4294967296) >>> 0,
    jpegQuality: Math.round(pick(cfg.jpeg, u[8], rng.next())),
  };
}

/** Blur radius (HR pixels) of a draw. */
function blurRadius(p: DegradationParams): number {
  return (p.sigma > 0 ? Math.max(1, Math.ceil(3 * p.sigma)) : 0) + (p.motion ? Math.max(1, Math.ceil(p.motion.length / 2)) : 0);
}

function applyBlur(src: Float32Array, w: number, h: number, p: DegradationParams): Float32Array {
  let out = src;
  if (p.motion) out = convolveSparse(out, w, h, motionKernel(p.motion.length, p.motion.angle));
  if (p.sigma > 0) out = convolveSeparable(out, w, h, gaussianTaps(p.sigma));
  return out;
}

/** Adds noise, then JPEG, to an LR image in place (returns the result). */
async function applyNoiseJpeg(lr: Float32Array, w: number, h: number, cfg: ResolvedDegradation, p: DegradationParams): Promise<Float32Array> {
  if (p.noise > 0) {
    const rng = new Rng(p.noiseSeed);
    const s = p.noise / 255;
    for (let i = 0; i < lr.length; i++) {
      const v = lr[i] + s * rng.normal();
      lr[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    if (cfg.quantize) quantize8(lr);
  }
  if (p.jpegQuality > 0) lr = await jpegRoundTrip(lr, w, h, p.jpegQuality);
  return lr;
}

/**
 * Cache of downscale plans keyed by margin, for one (scale, patch size).
 *
 * @example
 * ```ts
 * const plans: PlanCache = new Map(); // reused across calls of degradePatch for one scale and patch size
 * ```
 */
export type PlanCache = Map<number, DownscalePlan>;

/**
 * Makes one `(lr, hr)` training pair from an RGB image (`channels: 3`): the HR patch at LR position `(lrX, lrY)` (HR `(lrX·s, lrY·s)`),
 * side `lrSize·s`, and its degraded LR patch. The crop takes a mirrored margin so that the LR patch equals the
 * corresponding crop of the degraded whole image (mod-cropped to `limitW×limitH`).
 *
 * @example
 * ```ts
 * const cfg = resolveDegradation(4);
 * const { lr, hr } = await degradePatch(img, 0, 0, 48, cfg, sampleDegradation(rng, cfg), new Map());
 * ```
 */
export async function degradePatch(
  img: RawImage<ImageSamples>,
  lrX: number,
  lrY: number,
  lrSize: number,
  cfg: ResolvedDegradation,
  params: DegradationParams,
  plans: PlanCache,
  limitW = img.width - (img.width % cfg.scale),
  limitH = img.height - (img.height % cfg.scale),
): Promise<{ lr: Float32Array; hr: Float32Array }> {
  const s = cfg.scale;
  const P = lrSize * s;
  const r = blurRadius(params);
  const marginLr = s > 1 ? BICUBIC_MARGIN_LR + Math.ceil(r / s) : r;
  const M = marginLr * s;
  const Q = P + 2 * M;
  const crop = cropReflect(img, lrX * s - M, lrY * s - M, Q, Q, limitW, limitH);
  const hr = centre(crop, Q, M, P);
  const blurred = r > 0 ? applyBlur(crop, Q, Q, params) : crop;
  let lr: Float32Array;
  if (s > 1) {
    let plan = plans.get(marginLr);
    if (!plan) plans.set(marginLr, (plan = downscalePlan(s, lrSize, marginLr)));
    lr = downscaleCrop(plan, blurred, cfg.quantize);
  } else {
    lr = centre(blurred, Q, M, P);
    if (cfg.quantize) quantize8(lr);
  }
  lr = await applyNoiseJpeg(lr, lrSize, lrSize, cfg, params);
  return { lr, hr };
}

/** Copies the central `p×p` window at offset `m` of a `q×q×3` array. */
function centre(src: Float32Array, q: number, m: number, p: number): Float32Array {
  if (m === 0 && p === q) return src.slice();
  const out = new Float32Array(p * p * 3);
  for (let y = 0; y < p; y++) out.set(src.subarray(((y + m) * q + m) * 3, ((y + m) * q + m + p) * 3), y * p * 3);
  return out;
}

/**
 * Degrades a whole (mod-cropped) RGB image (`channels: 3`), e.g. to make validation inputs: the same pipeline as
 * {@link degradePatch}. Returns float32 RGB in [0, 1].
 *
 * @example
 * ```ts
 * const lr = await degradeImage(hrImg, cfg, sampleDegradation(new Rng(7), cfg)); // float32 RGB in [0, 1]
 * ```
 */
export async function degradeImage(
  img: RawImage<ImageSamples>,
  cfg: ResolvedDegradation,
  params: DegradationParams,
): Promise<RawImage<Float32Array>> {
  const s = cfg.scale;
  const W = img.width - (img.width % s);
  const H = img.height - (img.height % s);
  if (W === 0 || H === 0) throw new ConfigError(`image ${img.width}x${img.height} is smaller than the scale ${s}`);
  let hr = cropReflect(img, 0, 0, W, H, W, H);
  if (blurRadius(params) > 0) hr = applyBlur(hr, W, H, params);
  let lr: Float32Array;
  if (s > 1) {
    const levels = new Float32Array(hr.length);
    for (let i = 0; i < hr.length; i++) levels[i] = hr[i] * 255;
    const out = imresizeFloat({ data: levels, width: W, height: H, channels: 3 }, 1 / s, cfg.quantize ? { roundTo: 255 } : {});
    lr = new Float32Array(out.data.length);
    for (let i = 0; i < lr.length; i++) lr[i] = out.data[i] / 255;
  } else {
    lr = hr;
    if (cfg.quantize) quantize8(lr);
  }
  lr = await applyNoiseJpeg(lr, W / s, H / s, cfg, params);
  return { data: lr, width: W / s, height: H / s, channels: 3 };
}
