import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { bicubicTaps, resizeGeometry, resizeInterleaved, type ResizeTaps } from './imresize';

/**
 * Options of {@link resizeBicubicTensor}.
 *
 * @example
 * ```ts
 * const opts: ResizeTensorOptions = { antialias: true, round: true };
 * ```
 */
export interface ResizeTensorOptions {
  /** Widen the kernel when downscaling (MATLAB's default, `true`). */
  antialias?: boolean;
  /**
   * Quantise to 8-bit levels (`round(x · 255) / 255`, clamped to [0, 1]) after each pass, as MATLAB does for
   * uint8 images. Default `false`: float output, unrounded and unclamped (bicubic overshoots slightly).
   */
  round?: boolean;
  /**
   * How it runs: `'matmul'` (one product per axis with the dense `[in, out]` resize matrix: differentiable on
   * every backend and the fastest on wasm), `'gather'` (Σ over the taps of gathered rows; memory ∝ output only),
   * `'js'` (reads the data and resizes in plain JS, float64; not differentiable) or `'auto'` (default: `'js'` on
   * the cpu backend, whose data lives in JS anyway and whose matMul is slow; elsewhere matmul unless the matrix
   * would exceed 16M entries, then gather). Use `'matmul'` when you need gradients through the resize.
   */
  method?: 'gather' | 'matmul' | 'js' | 'auto';
}

/** Largest dense resize matrix (`in × out` entries, 64 MB in float32) that `'auto'` mode uses. */
const MATMUL_MAX_ENTRIES = 1 << 24;

const TAPS_CACHE = new Map<string, ResizeTaps>();

function cachedTaps(inLength: number, outLength: number, scale: number, antialias: boolean): ResizeTaps {
  const key = `${inLength}:${outLength}:${scale}:${antialias}`;
  let t = TAPS_CACHE.get(key);
  if (!t) {
    t = bicubicTaps(inLength, outLength, scale, antialias);
    if (TAPS_CACHE.size >= 64) TAPS_CACHE.delete(TAPS_CACHE.keys().next().value as string);
    TAPS_CACHE.set(key, t);
  }
  return t;
}

/** Gather strategy: Σ_k w_k · gather(x, idx_k) along `axis`; cost ∝ taps · output size. */
function resizeAxisGather(x: tf.Tensor4D, axis: 1 | 2, t: ResizeTaps): tf.Tensor4D {
  const wShape: [number, number, number, number] = axis === 1 ? [1, t.outLength, 1, 1] : [1, 1, t.outLength, 1];
  let acc: tf.Tensor4D | undefined;
  for (let k = 0; k < t.taps; k++) {
    // Fresh arrays per tap: some backends keep a reference to the array a tensor was made from.
    const idx = new Int32Array(t.outLength);
    const w = new Float32Array(t.outLength);
    for (let o = 0; o < t.outLength; o++) {
      idx[o] = t.indices[o * t.taps + k];
      w[o] = t.weights[o * t.taps + k];
    }
    const term = tf.mul(tf.gather(x, tf.tensor1d(idx, 'int32'), axis), tf.tensor(w, wShape)) as tf.Tensor4D;
    acc = acc ? (tf.add(acc, term) as tf.Tensor4D) : term;
  }
  return acc as tf.Tensor4D;
}

/** Dense `[in, out]` matrix of a resize (mirrored taps accumulate), transposed for `x · M`. */
function denseMatrixT(t: ResizeTaps): tf.Tensor2D {
  const m = new Float32Array(t.inLength * t.outLength);
  for (let o = 0; o < t.outLength; o++) {
    for (let k = 0; k < t.taps; k++) m[t.indices[o * t.taps + k] * t.outLength + o] += t.weights[o * t.taps + k];
  }
  return tf.tensor2d(m, [t.inLength, t.outLength]);
}

/** MatMul strategy: move `axis` last, multiply by the dense resize matrix, move it back; cost ∝ in · output size. */
function resizeAxisMatMul(x: tf.Tensor4D, axis: 1 | 2, t: ResizeTaps): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const perm = axis === 1 ? [0, 2, 3, 1] : [0, 1, 3, 2];
  const moved = tf.reshape(tf.transpose(x, perm), [-1, t.inLength]);
  const y = tf.matMul(moved, denseMatrixT(t));
  const back = axis === 1 ? tf.reshape(y, [n, w, c, t.outLength]) : tf.reshape(y, [n, h, c, t.outLength]);
  return tf.transpose(back, axis === 1 ? [0, 3, 1, 2] : [0, 1, 3, 2]) as tf.Tensor4D;
}

/** One 1-D pass along `axis` (1 = height, 2 = width) of an NHWC tensor. */
function resizeAxis(x: tf.Tensor4D, axis: 1 | 2, t: ResizeTaps, round: boolean, method: 'gather' | 'matmul' | 'auto'): tf.Tensor4D {
  return tf.tidy(() => {
    const useMatMul = method === 'matmul' || (method === 'auto' && t.inLength * t.outLength <= MATMUL_MAX_ENTRIES);
    const out = useMatMul ? resizeAxisMatMul(x, axis, t) : resizeAxisGather(x, axis, t);
    return round ? (tf.div(tf.floor(tf.clipByValue(tf.add(tf.mul(out, 255), 0.5), 0, 255)), 255) as tf.Tensor4D) : out;
  });
}

/** The 'js' method: read the tensor, resize each image with {@link resizeInterleaved} (float64), make a new tensor. */
function resizeInJs<T extends tf.Tensor3D | tf.Tensor4D>(
  x: T,
  scaleOrSize: number | readonly [number, number],
  outHeight: number,
  outWidth: number,
  antialias: boolean,
  round: boolean,
): T {
  const shape = x.shape as number[];
  const [n, height, width, c] = x.rank === 4 ? shape : [1, ...shape];
  const data = x.dataSync();
  const inSize = height * width * c;
  const outSize = outHeight * outWidth * c;
  const out = new Float32Array(n * outSize);
  for (let b = 0; b < n; b++) {
    let src: ArrayLike<number> = data.subarray(b * inSize, (b + 1) * inSize);
    if (round) src = Float64Array.from(src as Float32Array, (v) => v * 255);
    const r = resizeInterleaved({ data: src, width, height }, c, scaleOrSize, { antialias, roundTo: round ? 255 : undefined });
    const k = round ? 1 / 255 : 1;
    for (let i = 0; i < outSize; i++) out[b * outSize + i] = r.data[i] * k;
  }
  return (x.rank === 4 ? tf.tensor4d(out, [n, outHeight, outWidth, c]) : tf.tensor3d(out, [outHeight, outWidth, c])) as T;
}

/**
 * MATLAB-style bicubic resize (`imresize(x, s, 'bicubic')`) of a `[H, W, C]` or `[N, H, W, C]` float tensor,
 * on the active TF.js backend (one matrix product per axis with the precomputed resize matrix, so it is cheap
 * on small patches and usable inside a training data pipeline: 16×96×96×3 -> 24×24 takes ~3 ms on wasm). `scaleOrSize` is a factor (`1/4`, `2`) or
 * `[outHeight, outWidth]`. Returns a new tensor of the same rank; the input is not disposed.
 *
 * @example
 * ```ts
 * const lr = resizeBicubicTensor(hrBatch, 1 / 4);           // [16, 96, 96, 3] -> [16, 24, 24, 3]
 * const lr8 = resizeBicubicTensor(hrBatch, 1 / 4, { round: true }); // exactly like MATLAB on uint8 data
 * ```
 */
export function resizeBicubicTensor<T extends tf.Tensor3D | tf.Tensor4D>(
  x: T,
  scaleOrSize: number | readonly [number, number],
  opts: ResizeTensorOptions = {},
): T {
  if (x.rank !== 3 && x.rank !== 4) throw new ShapeError(`expected a [H, W, C] or [N, H, W, C] tensor, got shape [${x.shape.join(', ')}]`);
  const [height, width] = x.rank === 4 ? [x.shape[1], x.shape[2]] : [x.shape[0], x.shape[1]];
  const g = resizeGeometry(height, width, scaleOrSize);
  const antialias = opts.antialias ?? true;
  const round = opts.round ?? false;
  const tapsH = cachedTaps(height, g.outHeight, g.scaleH, antialias);
  const tapsW = cachedTaps(width, g.outWidth, g.scaleW, antialias);
  const method = opts.method ?? 'auto';
  if (method === 'js' || (method === 'auto' && tf.getBackend() === 'cpu')) {
    return resizeInJs(x, scaleOrSize, g.outHeight, g.outWidth, antialias, round);
  }
  return tf.tidy(() => {
    let cur = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
    if (cur.dtype !== 'float32') cur = tf.cast(cur, 'float32');
    const order: Array<1 | 2> = g.scaleH <= g.scaleW ? [1, 2] : [2, 1];
    for (const axis of order) cur = resizeAxis(cur, axis, axis === 1 ? tapsH : tapsW, round, method);
    return (x.rank === 3 ? tf.squeeze(cur, [0]) : cur) as T;
  });
}

/**
 * MATLAB-style bicubic upscaling of an `[N, H, W, 3]` batch in [0, 1] to `[N, H·s, W·s, 3]`, clipped to [0, 1].
 * The core of the `bicubic` baseline model (the literature's "Bicubic" row).
 *
 * @example
 * ```ts
 * const sr = upscaleBicubic(lr, 4); // lr: [1, 64, 64, 3] -> sr: [1, 256, 256, 3]
 * ```
 */
export function upscaleBicubic<T extends tf.Tensor3D | tf.Tensor4D>(x: T, scale: number): T {
  return tf.tidy(() => tf.clipByValue(resizeBicubicTensor(x, scale), 0, 1) as T);
}
