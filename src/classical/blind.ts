/**
 * Blind deconvolution for the ×1 baseline: a Gaussian σ estimated from the image's edges (the re-blur gradient ratio),
 * then the regularised Wiener filter of `deconvolve.ts` with that Gaussian.
 */
import { ConfigError } from '../errors';
import { gaussianTaps } from '../data/blur';
import { reflectIndex } from '../data/pixels';
import type { RawImage } from '../io/raw-image';
import { checkImage, lumaPlane, wienerDeconvolve, type DeconvolveOptions } from './deconvolve';

/**
 * Options of {@link estimateBlurSigma}.
 *
 * @example
 * ```ts
 * const o: BlurEstimateOptions = { reblurSigma: 1, edgeFraction: 0.1, shrink: 0.9 };
 * ```
 */
export interface BlurEstimateOptions extends DeconvolveOptions {
  /** σ₀ of the re-blur (default 1). */
  reblurSigma?: number;
  /** Fraction of the edge pixels used, the strongest (default 0.1). */
  edgeFraction?: number;
  /** Factor applied to the estimate before deconvolving (default {@link BLIND_X1_SHRINK}). */
  shrink?: number;
}

/**
 * The factor {@link blindDeconvolve} multiplies its σ estimate by: under-deconvolving costs less than ringing.
 * Chosen by `npx tsx lab/scripts/tune-x1-baselines.ts`, with `WIENER_X1`.
 *
 * @example
 * ```ts
 * const sigmaUsed = BLIND_X1_SHRINK * estimateBlurSigma(img);
 * ```
 */
export const BLIND_X1_SHRINK = 1;

/** Separable Gaussian blur of a plane (half-sample symmetric borders), taps as `gaussianTaps`. */
function blurPlane(p: Float64Array, w: number, h: number, sigma: number): Float64Array {
  const t = gaussianTaps(sigma);
  const r = (t.length - 1) / 2;
  const tmp = new Float64Array(w * h);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += t[k + r] * p[y * w + reflectIndex(x + k, w)];
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += t[k + r] * tmp[reflectIndex(y + k, h) * w + x];
      out[y * w + x] = s;
    }
  }
  return out;
}

/** Central-difference gradient magnitude and the dominant axis (true = x) of a plane; 0 on the border. */
function gradient(p: Float64Array, w: number, h: number): { mag: Float64Array; alongX: Uint8Array } {
  const mag = new Float64Array(w * h);
  const alongX = new Uint8Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gx = (p[i + 1] - p[i - 1]) / 2;
      const gy = (p[i + w] - p[i - w]) / 2;
      mag[i] = Math.hypot(gx, gy);
      alongX[i] = Math.abs(gx) >= Math.abs(gy) ? 1 : 0;
    }
  }
  return { mag, alongX };
}

/**
 * Estimates the σ of a Gaussian blur from the image alone, by the re-blur gradient ratio (Zhuo & Sim, 2011): at an
 * edge blurred by σ, re-blurring with a known σ₀ lowers the gradient maximum by `R = sqrt(σ² + σ₀²) / σ`, so
 * `σ = σ₀ / sqrt(R² − 1)`. R is taken at edge pixels (local maxima of the luma gradient magnitude across the edge),
 * the strongest `edgeFraction` of them (least disturbed by noise and JPEG), and the median of their σ is returned.
 * A motion blur is not modelled: the estimate is the Gaussian width that best stands in for it.
 *
 * @throws ConfigError for a non-8-bit or tiny image, or bad options.
 * @example
 * ```ts
 * const sigma = estimateBlurSigma(blurred); // e.g. 1.4
 * ```
 */
export function estimateBlurSigma(img: RawImage, opts: BlurEstimateOptions = {}): number {
  checkImage(img);
  const s0 = opts.reblurSigma ?? 1;
  const frac = opts.edgeFraction ?? 0.1;
  if (!(s0 > 0 && s0 <= 5)) throw new ConfigError(`reblurSigma must be in (0, 5], got ${s0}`);
  if (!(frac > 0 && frac <= 1)) throw new ConfigError(`edgeFraction must be in (0, 1], got ${frac}`);
  const { width: w, height: h } = img;
  const y = lumaPlane(img);
  const g = gradient(y, w, h);
  const g0 = gradient(blurPlane(y, w, h, s0), w, h);
  const edges: Array<[number, number]> = [];
  const b = 3;
  for (let yy = b; yy < h - b; yy++) {
    for (let x = b; x < w - b; x++) {
      const i = yy * w + x;
      const m = g.mag[i];
      // Edges of at least one 8-bit level per pixel; non-maximum suppression across the edge.
      if (m < 1) continue;
      const step = g.alongX[i] ? 1 : w;
      if (m < g.mag[i - step] || m < g.mag[i + step]) continue;
      edges.push([m, m / g0.mag[i]]);
    }
  }
  if (edges.length === 0) return 0;
  edges.sort((p, q) => q[0] - p[0]);
  const keep = edges.slice(0, Math.max(20, Math.ceil(edges.length * frac)));
  const sigmas = keep.filter(([, r]) => r > 1 + 1e-6).map(([, r]) => s0 / Math.sqrt(r * r - 1)).sort((p, q) => p - q);
  if (sigmas.length === 0) return 0;
  return Math.min(10, sigmas[Math.floor(sigmas.length / 2)]);
}

/**
 * Blind deconvolution: {@link estimateBlurSigma}, then {@link wienerDeconvolve} with that Gaussian.
 *
 * @throws ConfigError for a non-8-bit or tiny image.
 * @example
 * ```ts
 * const { image, sigma } = blindDeconvolve(photo);
 * ```
 */
export function blindDeconvolve(img: RawImage, opts: BlurEstimateOptions = {}): { image: RawImage; sigma: number } {
  const shrink = opts.shrink ?? BLIND_X1_SHRINK;
  if (!(shrink > 0 && shrink <= 4)) throw new ConfigError(`shrink must be in (0, 4], got ${shrink}`);
  const sigma = Math.min(10, estimateBlurSigma(img, opts) * shrink);
  if (sigma === 0) return { image: { ...img, data: img.data.slice() }, sigma };
  return { image: wienerDeconvolve(img, { sigma }, opts), sigma };
}
