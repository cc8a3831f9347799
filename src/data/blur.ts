/**
 * Blur kernels for the sharpening (scale 1) degradations: a separable Gaussian and a sparse linear motion kernel,
 * applied to float RGB rectangles with mirrored borders.
 */
import { reflectIndex } from './pixels';

/**
 * A 2-D kernel stored as its non-zero taps (motion kernels are mostly zeros).
 *
 * @example
 * ```ts
 * const k: SparseKernel = motionKernel(7, Math.PI / 4);
 * console.log(k.radius, k.dx.length); // 3, number of non-zero taps
 * ```
 */
export interface SparseKernel {
  /** Kernel radius: taps lie in `[-radius, radius]²`. */
  radius: number;
  dy: Int32Array;
  dx: Int32Array;
  w: Float32Array;
}

/**
 * Normalised 1-D Gaussian taps of standard deviation `sigma` (pixels), radius `ceil(3σ)`.
 *
 * @example
 * ```ts
 * gaussianTaps(1.0); // Float32Array(7), sums to 1
 * ```
 */
export function gaussianTaps(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Normalised linear motion-blur kernel: a segment of `length` pixels at `angle` radians through the centre,
 * rasterised with bilinear splatting (so sub-pixel lengths and any angle work).
 *
 * @example
 * ```ts
 * const k = motionKernel(7, Math.PI / 4);
 * ```
 */
export function motionKernel(length: number, angle: number): SparseKernel {
  const radius = Math.max(1, Math.ceil(length / 2));
  const size = 2 * radius + 1;
  const dense = new Float64Array(size * size);
  const samples = Math.max(2, Math.ceil(length * 4));
  const cx = Math.cos(angle);
  const cy = Math.sin(angle);
  for (let i = 0; i < samples; i++) {
    const t = (i / (samples - 1) - 0.5) * Math.max(length - 1, 0);
    const x = radius + t * cx;
    const y = radius + t * cy;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const splat = (yy: number, xx: number, w: number) => {
      if (yy >= 0 && yy < size && xx >= 0 && xx < size) dense[yy * size + xx] += w;
    };
    splat(y0, x0, (1 - fx) * (1 - fy));
    splat(y0, x0 + 1, fx * (1 - fy));
    splat(y0 + 1, x0, (1 - fx) * fy);
    splat(y0 + 1, x0 + 1, fx * fy);
  }
  let sum = 0;
  for (const v of dense) sum += v;
  const dy: number[] = [];
  const dx: number[] = [];
  const w: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = dense[y * size + x];
      if (v > 1e-6 * sum) {
        dy.push(y - radius);
        dx.push(x - radius);
        w.push(v / sum);
      }
    }
  }
  return { radius, dy: Int32Array.from(dy), dx: Int32Array.from(dx), w: Float32Array.from(w) };
}

/**
 * Separable convolution of a `w×h×3` float image with symmetric 1-D taps along both axes, mirrored borders.
 *
 * @example
 * ```ts
 * const blurred = convolveSeparable(img, 64, 64, gaussianTaps(1.2));
 * ```
 */
export function convolveSeparable(src: Float32Array, width: number, height: number, taps: Float32Array): Float32Array {
  const r = (taps.length - 1) / 2;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const xs = new Int32Array(width * taps.length);
  for (let x = 0; x < width; x++) for (let k = 0; k < taps.length; k++) xs[x * taps.length + k] = 3 * reflectIndex(x + k - r, width);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let k = 0; k < taps.length; k++) {
        const i = row + xs[x * taps.length + k];
        const w = taps[k];
        a += w * src[i];
        b += w * src[i + 1];
        c += w * src[i + 2];
      }
      const o = row + 3 * x;
      tmp[o] = a;
      tmp[o + 1] = b;
      tmp[o + 2] = c;
    }
  }
  const rowLen = width * 3;
  for (let y = 0; y < height; y++) {
    const o = y * rowLen;
    for (let k = 0; k < taps.length; k++) {
      const w = taps[k];
      const s = reflectIndex(y + k - r, height) * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i] += w * tmp[s + i];
    }
  }
  return out;
}

/**
 * Convolution of a `w×h×3` float image with a {@link SparseKernel}, mirrored borders.
 *
 * @example
 * ```ts
 * const smeared = convolveSparse(img, 64, 64, motionKernel(9, 0.3));
 * ```
 */
export function convolveSparse(src: Float32Array, width: number, height: number, k: SparseKernel): Float32Array {
  const out = new Float32Array(src.length);
  const rowLen = width * 3;
  for (let t = 0; t < k.w.length; t++) {
    const w = k.w[t];
    const dx = k.dx[t];
    const dy = k.dy[t];
    const xs = new Int32Array(width);
    for (let x = 0; x < width; x++) xs[x] = 3 * reflectIndex(x + dx, width);
    for (let y = 0; y < height; y++) {
      const srow = reflectIndex(y + dy, height) * rowLen;
      const orow = y * rowLen;
      for (let x = 0; x < width; x++) {
        const s = srow + xs[x];
        const o = orow + 3 * x;
        out[o] += w * src[s];
        out[o + 1] += w * src[s + 1];
        out[o + 2] += w * src[s + 2];
      }
    }
  }
  return out;
}
