/**
 * Fast MATLAB-bicubic downscaling of training patches.
 *
 * For an integer factor `s`, every LR sample of `imresize(hr, 1/s)` is the same weighted sum of the HR samples around
 * its `s×s` block, so one set of taps (from the metrics module's {@link bicubicTaps}) serves every patch. A patch is
 * cropped with a margin of `m` LR pixels (`m·s` HR pixels, mirrored outside the image like MATLAB) and only the
 * central `p×p` LR samples are computed: they equal the corresponding crop of `imresize` of the whole (mod-cropped)
 * image, rows first, rounded after each pass when `quantize` is on (MATLAB's uint8 path).
 */
import { bicubicTaps } from '../metrics/imresize';

/**
 * Precomputed separable taps for downscaling a `(p + 2m)·s` square crop to its central `p×p` LR samples.
 *
 * @example
 * ```ts
 * const plan: DownscalePlan = downscalePlan(2, 48);
 * ```
 */
export interface DownscalePlan {
  scale: number;
  /** LR patch side. */
  lrSize: number;
  /** Margin around the patch, in LR pixels. */
  marginLr: number;
  /** Side of the HR crop the plan reads: `(lrSize + 2·marginLr)·scale`. */
  inSize: number;
  taps: number;
  /** `lrSize × taps` weights. */
  weights: Float64Array;
  /** `lrSize × taps` input offsets (0-based, inside the crop). */
  indices: Int32Array;
}

/** Smallest margin (LR pixels) for which bicubic taps of the patch stay inside the crop. */
export const BICUBIC_MARGIN_LR = 2;

/**
 * Builds the taps for downscaling `(lrSize + 2·marginLr)·scale` HR samples to the `lrSize` central LR samples.
 *
 * @example
 * ```ts
 * const plan = downscalePlan(4, 48);              // reads 208x208 HR crops
 * const lr = downscaleCrop(plan, crop208, true);   // 48x48x3, 8-bit levels
 * ```
 */
export function downscalePlan(scale: number, lrSize: number, marginLr = BICUBIC_MARGIN_LR): DownscalePlan {
  const m = Math.max(marginLr, BICUBIC_MARGIN_LR);
  const outLen = lrSize + 2 * m;
  const inSize = outLen * scale;
  const t = bicubicTaps(inSize, outLen, 1 / scale, true);
  const weights = new Float64Array(lrSize * t.taps);
  const indices = new Int32Array(lrSize * t.taps);
  weights.set(t.weights.subarray(m * t.taps, (m + lrSize) * t.taps));
  indices.set(t.indices.subarray(m * t.taps, (m + lrSize) * t.taps));
  return { scale, lrSize, marginLr: m, inSize, taps: t.taps, weights, indices };
}

function round8(v: number): number {
  const r = Math.round(v * 255);
  return (r < 0 ? 0 : r > 255 ? 255 : r) / 255;
}

/**
 * Applies a {@link DownscalePlan} to an `inSize×inSize×3` float crop. With `quantize`, rounds to 8-bit levels after
 * each pass like MATLAB does for uint8 images.
 *
 * @example
 * ```ts
 * const lr = downscaleCrop(downscalePlan(2, 32), crop, true);
 * ```
 */
export function downscaleCrop(plan: DownscalePlan, crop: Float32Array, quantize: boolean, out = new Float32Array(plan.lrSize * plan.lrSize * 3)): Float32Array {
  const { inSize, lrSize: p, taps, weights, indices } = plan;
  const rowLen = inSize * 3;
  // Pass 1: rows (height) first, as MATLAB does on ties: p rows of inSize samples.
  const mid = new Float64Array(p * rowLen);
  for (let o = 0; o < p; o++) {
    const dst = o * rowLen;
    for (let k = 0; k < taps; k++) {
      const w = weights[o * taps + k];
      const src = indices[o * taps + k] * rowLen;
      for (let i = 0; i < rowLen; i++) mid[dst + i] += w * crop[src + i];
    }
  }
  if (quantize) for (let i = 0; i < mid.length; i++) mid[i] = round8(mid[i]);
  // Pass 2: columns.
  for (let y = 0; y < p; y++) {
    const s0 = y * rowLen;
    const d0 = y * p * 3;
    for (let o = 0; o < p; o++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < taps; k++) {
        const w = weights[o * taps + k];
        const s = s0 + indices[o * taps + k] * 3;
        r += w * mid[s];
        g += w * mid[s + 1];
        b += w * mid[s + 2];
      }
      const d = d0 + o * 3;
      out[d] = quantize ? round8(r) : r;
      out[d + 1] = quantize ? round8(g) : g;
      out[d + 2] = quantize ? round8(b) : b;
    }
  }
  return out;
}
