import { ShapeError } from '../errors';
import { pairPlanes, type MetricImage, type MetricOptions, type PlanePair } from './metric-input';

/** Size of the SSIM window (MATLAB's `fspecial('gaussian', 11, 1.5)`). */
export const SSIM_WINDOW = 11;
/** Standard deviation of the SSIM window. */
export const SSIM_SIGMA = 1.5;

/**
 * Normalised 1-D Gaussian of `size` taps; the 2-D SSIM window is its outer product (the 2-D normalisation
 * factorises, so separable filtering is exact).
 *
 * @example
 * ```ts
 * const g = gaussianWindow1d(); // 11 taps summing to 1
 * ```
 */
export function gaussianWindow1d(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += g[i];
  }
  for (let i = 0; i < size; i++) g[i] /= sum;
  return g;
}

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** Valid separable correlation of a `width × height` plane with the SSIM window (rows, then columns). */
function filterValid(src: Float64Array, width: number, height: number, g: Float64Array): Float64Array {
  const k = g.length;
  const ow = width - k + 1;
  const oh = height - k + 1;
  const tmp = new Float64Array(height * ow);
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += g[t] * src[r + x + t];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let t = 0; t < k; t++) {
      const w = g[t];
      const r = (y + t) * ow;
      for (let x = 0; x < ow; x++) out[y * ow + x] += w * tmp[r + x];
    }
  }
  return out;
}

/**
 * @internal Mean SSIM of two planes on the 255 scale (MATLAB's `ssim_index` / BasicSR's `_ssim`): 11×11 Gaussian
 * window with σ = 1.5, C1 = (0.01·255)², C2 = (0.03·255)², valid filtering, mean of the SSIM map. Float64.
 */
export function ssimPlane(a: Float64Array, b: Float64Array, width: number, height: number): number {
  if (width < SSIM_WINDOW || height < SSIM_WINDOW) {
    throw new ShapeError(`SSIM needs images of at least ${SSIM_WINDOW}x${SSIM_WINDOW} pixels after cropping, got ${width}x${height}`);
  }
  const g = gaussianWindow1d();
  const n = a.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a[i] * a[i];
    bb[i] = b[i] * b[i];
    ab[i] = a[i] * b[i];
  }
  const mu1 = filterValid(a, width, height, g);
  const mu2 = filterValid(b, width, height, g);
  const e11 = filterValid(aa, width, height, g);
  const e22 = filterValid(bb, width, height, g);
  const e12 = filterValid(ab, width, height, g);
  let sum = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i];
    const m2 = mu2[i];
    const s11 = e11[i] - m1 * m1;
    const s22 = e22[i] - m2 * m2;
    const s12 = e12[i] - m1 * m2;
    sum += ((2 * m1 * m2 + C1) * (2 * s12 + C2)) / ((m1 * m1 + m2 * m2 + C1) * (s11 + s22 + C2));
  }
  return sum / mu1.length;
}

/** @internal Mean SSIM over the channels of one plane pair. */
export function ssimOfPair(p: PlanePair): number {
  let s = 0;
  for (let c = 0; c < p.a.length; c++) s += ssimPlane(p.a[c], p.b[c], p.width, p.height);
  return s / p.a.length;
}

/**
 * Structural similarity, computed the way super-resolution papers do (MATLAB's `ssim_index`, BasicSR's
 * `calculate_ssim`): 255 scale, 11×11 Gaussian window (σ = 1.5), C1 = (0.01·255)², C2 = (0.03·255)²,
 * valid filtering, mean of the SSIM map, float64. With `yChannel` it scores the BT.601 Y channel; otherwise
 * an RGB image scores the mean over its channels. `crop` border pixels are removed first; the cropped image
 * must be at least 11×11. A batch returns the mean over its images.
 *
 * Same inputs and options as {@link psnr}. For a differentiable version (a training loss) see `ssimTensor`.
 *
 * @example
 * ```ts
 * const s = await ssim(sr, hr, { yChannel: true, crop: 4 }); // e.g. 0.81 for bicubic x4 on Set5
 * ```
 */
export async function ssim(a: MetricImage, b: MetricImage, opts: MetricOptions = {}): Promise<number> {
  const pairs = await pairPlanes(a, b, opts);
  let total = 0;
  for (const p of pairs) total += ssimOfPair(p);
  return total / pairs.length;
}
