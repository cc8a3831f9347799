import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { bicubicTaps, resizeGeometry, type ResizeTaps } from './imresize';

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
}

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

/** One 1-D pass along `axis` (1 = height, 2 = width) of an NHWC tensor: Σ_k w_k · gather(x, idx_k). */
function resizeAxis(x: tf.Tensor4D, axis: 1 | 2, t: ResizeTaps, round: boolean): tf.Tensor4D {
  return tf.tidy(() => {
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
    const out = acc as tf.Tensor4D;
    return round ? (tf.div(tf.floor(tf.clipByValue(tf.add(tf.mul(out, 255), 0.5), 0, 255)), 255) as tf.Tensor4D) : out;
  });
}

/**
 * MATLAB-style bicubic resize (`imresize(x, s, 'bicubic')`) of a `[H, W, C]` or `[N, H, W, C]` float tensor,
 * on the active TF.js backend (gathers and multiply-adds with precomputed taps, so it is cheap on small
 * patches and usable inside a training data pipeline). `scaleOrSize` is a factor (`1/4`, `2`) or
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
  return tf.tidy(() => {
    let cur = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
    if (cur.dtype !== 'float32') cur = tf.cast(cur, 'float32');
    const order: Array<1 | 2> = g.scaleH <= g.scaleW ? [1, 2] : [2, 1];
    for (const axis of order) cur = resizeAxis(cur, axis, axis === 1 ? tapsH : tapsW, round);
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
