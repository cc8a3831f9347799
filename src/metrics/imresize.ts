/**
 * MATLAB `imresize(..., 'bicubic')` in plain JavaScript, float64 accumulation.
 *
 * The algorithm, as in MATLAB (and BasicSR's `matlab_functions.imresize`):
 * 1. For every output sample `x` (1-based) the centre in input coordinates is `u = x / s + 0.5 (1 - 1 / s)`.
 * 2. Keys' cubic kernel with `a = -0.5` and support 4. When downscaling with antialiasing the kernel is
 *    stretched by `1 / s` (support `4 / s`, weights `s · cubic(s · d)`).
 * 3. Weights are normalised to sum to 1; out-of-range taps are mirrored (symmetric boundary:
 *    `-1 0 | 0 1 2 ... n-1 | n-1 n-2`); taps whose weight is zero for every output are dropped.
 * 4. The two dimensions are resized one after the other, the one that shrinks most first (rows on ties).
 *    For integer images MATLAB rounds and saturates after each pass; `roundTo` reproduces that.
 *
 * The resize is linear, so it works on any value scale: samples are read as plain numbers and the output is on the
 * input's scale. This is where images may hold float samples outside [0, 1] (e.g. levels 0–255 in float64, to
 * round like MATLAB's uint8 path with `roundTo: 255`).
 */
import { ConfigError, ShapeError } from '../errors';
import type { ImageSamples, RawImage } from '../io/raw-image';

/**
 * Precomputed taps of a 1-D resize: output `o` = Σ_k `weights[o·taps+k]` · input[`indices[o·taps+k]`].
 *
 * @example
 * ```ts
 * const t: ResizeTaps = bicubicTaps(96, 24, 1 / 4); // 18 taps per output sample
 * ```
 */
export interface ResizeTaps {
  inLength: number;
  outLength: number;
  /** Taps per output sample. */
  taps: number;
  /** `outLength × taps` weights, row-major, each row summing to 1. */
  weights: Float64Array;
  /** `outLength × taps` 0-based input indices, already mirrored into `[0, inLength)`. */
  indices: Int32Array;
}

/** Keys' cubic convolution kernel with a = -0.5 (MATLAB's `cubic`). */
export function cubicKernel(x: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
  if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
  return 0;
}

/**
 * Computes MATLAB's `contributions(in_length, out_length, scale, @cubic, 4, antialiasing)`.
 *
 * @example
 * ```ts
 * const t = bicubicTaps(8, 4, 0.5, true); // t.taps === 8 (kernel widened to 8 for a x2 downscale)
 * ```
 */
export function bicubicTaps(inLength: number, outLength: number, scale: number, antialias = true): ResizeTaps {
  if (!(inLength >= 1 && outLength >= 1 && Number.isInteger(inLength) && Number.isInteger(outLength))) {
    throw new ShapeError(`resize lengths must be positive integers, got ${inLength} -> ${outLength}`);
  }
  if (!(scale > 0 && Number.isFinite(scale))) throw new ConfigError(`resize scale must be a positive number, got ${scale}`);
  const aa = scale < 1 && antialias;
  const width = aa ? 4 / scale : 4;
  const p = Math.ceil(width) + 2;
  const raw = new Float64Array(outLength * p);
  const rawIdx = new Int32Array(outLength * p);
  const used = new Uint8Array(p);
  const period = 2 * inLength;
  for (let o = 0; o < outLength; o++) {
    const u = (o + 1) / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - width / 2);
    let sum = 0;
    for (let k = 0; k < p; k++) {
      const idx = left + k; // 1-based
      const d = u - idx;
      const w = aa ? scale * cubicKernel(d * scale) : cubicKernel(d);
      raw[o * p + k] = w;
      sum += w;
      // Symmetric boundary on 0-based j: fold into [0, 2n), then mirror the upper half.
      let j = (((idx - 1) % period) + period) % period;
      if (j >= inLength) j = period - 1 - j;
      rawIdx[o * p + k] = j;
    }
    for (let k = 0; k < p; k++) {
      raw[o * p + k] /= sum;
      if (raw[o * p + k] !== 0) used[k] = 1;
    }
  }
  const keep: number[] = [];
  for (let k = 0; k < p; k++) if (used[k]) keep.push(k);
  const taps = keep.length;
  const weights = new Float64Array(outLength * taps);
  const indices = new Int32Array(outLength * taps);
  for (let o = 0; o < outLength; o++) {
    for (let t = 0; t < taps; t++) {
      weights[o * taps + t] = raw[o * p + keep[t]];
      indices[o * taps + t] = rawIdx[o * p + keep[t]];
    }
  }
  return { inLength, outLength, taps, weights, indices };
}

/** Output size and per-axis scales of an imresize call, MATLAB's rules. */
export function resizeGeometry(
  height: number,
  width: number,
  scaleOrSize: number | readonly [number, number],
): { outHeight: number; outWidth: number; scaleH: number; scaleW: number } {
  if (typeof scaleOrSize === 'number') {
    const s = scaleOrSize;
    if (!(s > 0 && Number.isFinite(s))) throw new ConfigError(`resize scale must be a positive number (e.g. 4 or 1/4), got ${s}`);
    return { outHeight: Math.ceil(height * s), outWidth: Math.ceil(width * s), scaleH: s, scaleW: s };
  }
  const [outHeight, outWidth] = scaleOrSize;
  if (!(Number.isInteger(outHeight) && Number.isInteger(outWidth) && outHeight > 0 && outWidth > 0)) {
    throw new ConfigError(`output size must be [height, width] in positive integers, got [${outHeight}, ${outWidth}]`);
  }
  return { outHeight, outWidth, scaleH: outHeight / height, scaleW: outWidth / width };
}

/**
 * Options of {@link imresizeFloat}.
 *
 * @example
 * ```ts
 * const opts: ImresizeOptions = { antialias: true, roundTo: 255 };
 * ```
 */
export interface ImresizeOptions {
  /** Widen the kernel when downscaling (MATLAB's default, `true`). */
  antialias?: boolean;
  /** Round and clamp to `[0, roundTo]` after each pass, as MATLAB does for integer images (255 for uint8). */
  roundTo?: number;
}

/**
 * Low-level MATLAB-style bicubic resize of an image of any sample type, in float64. It is linear and keeps the
 * input's value scale: the output's float64 samples are on the scale of the input's (an 8-bit input gives levels
 * 0–255, not [0, 1]; divide by `sampleMax(src.data)` for the [0, 1] of float images). `scaleOrSize` is a factor
 * (`4`, `1/4`, `1.5`) or `[outHeight, outWidth]`.
 *
 * @example
 * ```ts
 * const lr = imresizeFloat({ data: hrFloat, width: 512, height: 512, channels: 3 }, 1 / 4);
 * // lr.width === 128, lr.data is a Float64Array
 * ```
 */
export function imresizeFloat(src: RawImage<ImageSamples>, scaleOrSize: number | readonly [number, number], opts: ImresizeOptions = {}): RawImage<Float64Array> {
  const out = resizeInterleaved(src, src.channels, scaleOrSize, opts);
  return { ...out, channels: src.channels };
}

/**
 * {@link imresizeFloat} on `channels` interleaved planes of any count (tensors' channels are not limited to 4).
 */
export function resizeInterleaved(
  src: { data: ArrayLike<number>; width: number; height: number },
  channels: number,
  scaleOrSize: number | readonly [number, number],
  opts: ImresizeOptions = {},
): { data: Float64Array; width: number; height: number } {
  const { width, height } = src;
  if (src.data.length !== width * height * channels) {
    throw new ShapeError(`image data has ${src.data.length} samples, expected ${width}x${height}x${channels}`);
  }
  const g = resizeGeometry(height, width, scaleOrSize);
  const antialias = opts.antialias ?? true;
  const tapsH = bicubicTaps(height, g.outHeight, g.scaleH, antialias);
  const tapsW = bicubicTaps(width, g.outWidth, g.scaleW, antialias);
  let cur: { data: ArrayLike<number>; width: number; height: number } = src;
  // MATLAB sorts the scales (stably) and resizes the dimension with the smallest scale first.
  const rowsFirst = g.scaleH <= g.scaleW;
  for (const dim of rowsFirst ? ['h', 'w'] : ['w', 'h']) {
    cur = dim === 'h' ? resizeRows(cur, channels, tapsH, opts.roundTo) : resizeCols(cur, channels, tapsW, opts.roundTo);
  }
  return { data: cur.data as Float64Array, width: g.outWidth, height: g.outHeight };
}

function quantize(out: Float64Array, max: number): void {
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    out[i] = v <= 0 ? 0 : v >= max ? max : Math.round(v);
  }
}

/** Resizes along the height: every output row is a weighted sum of whole input rows (contiguous, cache friendly). */
function resizeRows(
  src: { data: ArrayLike<number>; width: number; height: number },
  channels: number,
  t: ResizeTaps,
  roundTo?: number,
): { data: Float64Array; width: number; height: number } {
  const rowLen = src.width * channels;
  const out = new Float64Array(t.outLength * rowLen);
  const data = src.data;
  for (let o = 0; o < t.outLength; o++) {
    const dst = o * rowLen;
    for (let k = 0; k < t.taps; k++) {
      const w = t.weights[o * t.taps + k];
      const srcRow = t.indices[o * t.taps + k] * rowLen;
      for (let i = 0; i < rowLen; i++) out[dst + i] += w * data[srcRow + i];
    }
  }
  if (roundTo !== undefined) quantize(out, roundTo);
  return { data: out, width: src.width, height: t.outLength };
}

/** Resizes along the width. */
function resizeCols(
  src: { data: ArrayLike<number>; width: number; height: number },
  channels: number,
  t: ResizeTaps,
  roundTo?: number,
): { data: Float64Array; width: number; height: number } {
  const inRow = src.width * channels;
  const outRow = t.outLength * channels;
  const out = new Float64Array(src.height * outRow);
  const data = src.data;
  const { taps, weights, indices } = t;
  if (channels === 3) {
    // The common case, unrolled: about twice as fast as the generic loop.
    for (let y = 0; y < src.height; y++) {
      const s0 = y * inRow;
      let dst = y * outRow;
      for (let o = 0; o < t.outLength; o++, dst += 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = o * taps, end = k + taps; k < end; k++) {
          const w = weights[k];
          const s = s0 + indices[k] * 3;
          r += w * data[s];
          g += w * data[s + 1];
          b += w * data[s + 2];
        }
        out[dst] = r;
        out[dst + 1] = g;
        out[dst + 2] = b;
      }
    }
    if (roundTo !== undefined) quantize(out, roundTo);
    return { data: out, width: t.outLength, height: src.height };
  }
  for (let y = 0; y < src.height; y++) {
    const s0 = y * inRow;
    const d0 = y * outRow;
    for (let o = 0; o < t.outLength; o++) {
      const dst = d0 + o * channels;
      for (let k = 0; k < t.taps; k++) {
        const w = t.weights[o * t.taps + k];
        const s = s0 + t.indices[o * t.taps + k] * channels;
        for (let c = 0; c < channels; c++) out[dst + c] += w * data[s + c];
      }
    }
  }
  if (roundTo !== undefined) quantize(out, roundTo);
  return { data: out, width: t.outLength, height: src.height };
}
