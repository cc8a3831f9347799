/**
 * The luma channel the super-resolution literature scores on: ITU-R BT.601 "studio range" Y, as MATLAB's
 * `rgb2ycbcr` and BasicSR's `to_y_channel` compute it, kept in float (not rounded to uint8):
 *
 *     Y = 16 + 65.481 R + 128.553 G + 24.966 B        (R, G, B in [0, 1]; Y in [16, 235] on the 255 scale)
 *
 * A 1-channel (gray) image is its own Y, as the literature's MATLAB scripts do (they only call `rgb2ycbcr`
 * on 3-channel images); this is what reproduces the published Set14 numbers, whose `bridge.png` is gray.
 * When a gray image is compared with an RGB one, the RGB image is reduced to full-range BT.601 luma
 * `(65.481 R + 128.553 G + 24.966 B) / 219 = 0.299 R + 0.587 G + 0.114 B`, which maps R = G = B = v to v.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';

/** BT.601 Y weights for RGB in [0, 1], output on the 255 scale. */
export const Y_WEIGHTS = [65.481, 128.553, 24.966] as const;
/** Offset of studio-range Y on the 255 scale. */
export const Y_OFFSET = 16;

/**
 * Studio-range Y of an RGB tensor in [0, 1] (last axis 3), returned in [0, 1] units (`Y / 255`, so in
 * [16/255, 235/255]); the last axis becomes 1. Differentiable. On the cpu and wasm backends it is one custom op over
 * the data (a training step's luma loss calls it on a whole batch of HR-sized images, where the broadcast multiply and
 * the reduction as kernels cost several ms each); elsewhere it is tensor ops (`rgbToYOps`). Both give the same
 * float32 values.
 *
 * @example
 * ```ts
 * const y = rgbToY(tf.ones([1, 8, 8, 3]));   // every value 235 / 255
 * ```
 */
export function rgbToY<T extends tf.Tensor>(x: T): T {
  const c = x.shape[x.rank - 1];
  if (c !== 3) throw new ShapeError(`rgbToY expects RGB (last axis 3), got shape [${x.shape.join(', ')}]`);
  if (x.dtype === 'float32' && tf.getBackend() === 'wasm' && tf.getKernel(RGB_TO_Y_KERNEL, 'wasm')) return rgbToYKernel(x);
  return HOST_BACKENDS.has(tf.getBackend()) && x.dtype === 'float32' ? rgbToYHost(x) : rgbToYOps(x);
}

/** @internal Name of the wasm kernel of {@link rgbToY} (registered with sharpen-kd's wasm training kernels). */
export const RGB_TO_Y_KERNEL = 'SharpenKdRgbToY';
/** @internal Name of the wasm kernel of {@link rgbToY}'s gradient. */
export const RGB_TO_Y_GRAD_KERNEL = 'SharpenKdRgbToYGrad';

/** @internal {@link rgbToY} by the wasm backend's own kernels, in its heap (`backends/wasm-kernels/rgb-to-y.ts`). */
function rgbToYKernel<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = tf.engine().runKernel(RGB_TO_Y_KERNEL, { x: args[0] as tf.Tensor }) as tf.Tensor;
    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) => [tf.engine().runKernel(RGB_TO_Y_GRAD_KERNEL, { dy: Array.isArray(dy) ? dy[0] : dy }) as tf.Tensor];
    return { value, gradFunc };
  });
  return op(x) as T;
}

/** Backends whose tensors live in CPU memory. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

/** @internal {@link rgbToY} as tensor ops (any backend): `Σ_c x[..., c] · w_c + 16/255`. */
export function rgbToYOps<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const w = tf.tensor1d(Y_WEIGHTS.map((v) => v / 255));
    return tf.add(tf.sum(tf.mul(x, w), -1, true), Y_OFFSET / 255) as T;
  });
}

/**
 * @internal {@link rgbToY} as one custom op over the data, rounded as the backend's kernels round {@link rgbToYOps}:
 * every product to float32, then the sum of the three to float32 after each addition on wasm (its `Sum` accumulates in
 * float32) or once (cpu sums in float64), then `+ 16/255`. The gradient is `dx[..., c] = dy · w_c`.
 */
export function rgbToYHost<T extends tf.Tensor>(x: T): T {
  const wasm = tf.getBackend() === 'wasm';
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const value = tf.tensor(yForward(input.dataSync() as Float32Array, wasm), [...input.shape.slice(0, -1), 1], 'float32');
    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) => [tf.tensor(yBackward((Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array), input.shape, 'float32')];
    return { value, gradFunc };
  });
  return op(x) as T;
}

// The loops are module-level functions rather than closures made per call, so that V8 keeps their optimised code
// from one training step to the next (see rep-conv.ts).
const fr = Math.fround;
const [WR, WG, WB] = Y_WEIGHTS.map((v) => fr(v / 255));
const OFF = fr(Y_OFFSET / 255);
/** @internal The weights and offset of {@link rgbToY} as float32 values, in [0, 1] units: `[wr, wg, wb, offset]`. */
export const Y_FLOAT32: readonly [number, number, number, number] = [WR, WG, WB, OFF];

/** @internal Y of interleaved RGB, rounded as wasm (`wasm`) or cpu rounds {@link rgbToYOps}. */
export function yForward(v: Float32Array, wasm: boolean): Float32Array {
  const n = v.length / 3;
  const out = new Float32Array(n);
  if (wasm) for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = fr(fr(fr(v[j] * WR) + fr(v[j + 1] * WG)) + fr(v[j + 2] * WB)) + OFF;
  else for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = fr(fr(v[j] * WR) + fr(v[j + 1] * WG) + fr(v[j + 2] * WB)) + OFF;
  return out;
}

/** @internal `dx[..., c] = dy · w_c`. */
export function yBackward(g: Float32Array): Float32Array {
  const n = g.length;
  const dx = new Float32Array(3 * n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    dx[j] = g[i] * WR;
    dx[j + 1] = g[i] * WG;
    dx[j + 2] = g[i] * WB;
  }
  return dx;
}

/**
 * @internal Y plane (255 scale) of an interleaved float image on the 255 scale, starting at sample `offset`.
 * `studio` adds the 16 offset; otherwise full-range luma (weights / 219).
 */
export function yPlane(data: ArrayLike<number>, offset: number, pixels: number, channels: number, studio: boolean): Float64Array {
  const out = new Float64Array(pixels);
  if (channels < 3) {
    for (let i = 0; i < pixels; i++) out[i] = data[offset + i * channels];
    return out;
  }
  const [wr, wg, wb] = Y_WEIGHTS;
  const k = studio ? 1 / 255 : 1 / 219;
  const add = studio ? Y_OFFSET : 0;
  for (let i = 0; i < pixels; i++) {
    const j = offset + i * channels;
    out[i] = add + (wr * data[j] + wg * data[j + 1] + wb * data[j + 2]) * k;
  }
  return out;
}
