/**
 * Differentiable SSIM in float32 tensors, for training losses (`1 - ssimTensor(sr, hr)`).
 *
 * Same definition as {@link ssim} (11×11 Gaussian window, σ = 1.5, valid filtering, mean of the map), with
 * C1 = (0.01·maxVal)², C2 = (0.03·maxVal)². The separable Gaussian filter is applied as two matrix products
 * with banded matrices, so only transpose/reshape/matMul/elementwise ops are involved: their gradients exist
 * on every backend (cpu, wasm, webgl, webgpu), unlike depthwise-convolution gradients on wasm.
 * tfjs-core's gradient functions are registered by importing this module (see core/register-gradients).
 */
import * as tf from '@tensorflow/tfjs-core';
import '../core/register-gradients';
import { ConfigError, ShapeError } from '../errors';
import { gaussianWindow1d, SSIM_WINDOW } from './ssim';
import { rgbToY } from './y-channel';

/**
 * Options of {@link ssimTensor}.
 *
 * @example
 * ```ts
 * const opts: SsimTensorOptions = { yChannel: true, crop: 2 };
 * ```
 */
export interface SsimTensorOptions {
  /** Full-white value of the inputs (default 1: tensors in [0, 1]). */
  maxVal?: number;
  /** Border pixels removed before scoring (default 0). */
  crop?: number;
  /** Score the BT.601 Y channel of RGB inputs (default `false`: mean over channels). */
  yChannel?: boolean;
}

/** Banded `[n - 10, n]` matrix whose rows are the Gaussian window shifted by one: valid 1-D filtering. */
function bandMatrix(n: number): tf.Tensor2D {
  const g = gaussianWindow1d();
  const m = n - SSIM_WINDOW + 1;
  const data = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let k = 0; k < SSIM_WINDOW; k++) data[i * n + i + k] = g[k];
  return tf.tensor2d(data, [m, n]);
}

/**
 * Mean SSIM of two `[H, W, C]` or `[N, H, W, C]` tensors as a scalar float32 tensor, differentiable with
 * respect to both inputs (use `tf.sub(1, ssimTensor(sr, hr))` as a loss). Agrees with {@link ssim} on the
 * same float inputs to about 1e-5.
 *
 * @example
 * ```ts
 * const loss = tf.tidy(() => tf.sub(1, ssimTensor(model.predict(lr) as tf.Tensor4D, hr)));
 * const g = tf.grad((x: tf.Tensor) => ssimTensor(x, hr))(sr);
 * ```
 */
export function ssimTensor(a: tf.Tensor, b: tf.Tensor, opts: SsimTensorOptions = {}): tf.Scalar {
  if (a.rank !== 3 && a.rank !== 4) throw new ShapeError(`ssimTensor expects [H, W, C] or [N, H, W, C], got [${a.shape.join(', ')}]`);
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new ShapeError(`ssimTensor inputs differ in shape: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  const maxVal = opts.maxVal ?? 1;
  const crop = opts.crop ?? 0;
  if (!(maxVal > 0)) throw new ConfigError(`maxVal must be positive, got ${maxVal}`);
  if (!(Number.isInteger(crop) && crop >= 0)) throw new ConfigError(`crop must be a non-negative integer, got ${crop}`);
  const c1 = (0.01 * maxVal) ** 2;
  const c2 = (0.03 * maxVal) ** 2;
  return tf.tidy(() => {
    let x = (a.rank === 3 ? tf.expandDims(a, 0) : a) as tf.Tensor4D;
    let y = (b.rank === 3 ? tf.expandDims(b, 0) : b) as tf.Tensor4D;
    if (opts.yChannel && x.shape[3] === 3) {
      // rgbToY works on [0, 1]; rescale so that other maxVal values keep the same units.
      x = tf.mul(rgbToY(tf.div(x, maxVal)), maxVal) as tf.Tensor4D;
      y = tf.mul(rgbToY(tf.div(y, maxVal)), maxVal) as tf.Tensor4D;
    }
    const [n, H, W, C] = x.shape;
    const h = H - 2 * crop;
    const w = W - 2 * crop;
    if (h < SSIM_WINDOW || w < SSIM_WINDOW) {
      throw new ShapeError(`ssimTensor needs at least ${SSIM_WINDOW}x${SSIM_WINDOW} pixels after cropping, got ${w}x${h}`);
    }
    if (crop > 0) {
      x = tf.slice(x, [0, crop, crop, 0], [n, h, w, C]);
      y = tf.slice(y, [0, crop, crop, 0], [n, h, w, C]);
    }
    // Five maps filtered in one go: stack along a new leading axis -> [5, n, h, w, C].
    const stacked = tf.stack([x, y, tf.mul(x, x), tf.mul(y, y), tf.mul(x, y)]);
    const k = 5 * n;
    // Filter along W: [5n, h, w, C] -> [5n·h·C, w] · Gw^T -> [5n·h·C, w'].
    const alongW = tf.reshape(tf.transpose(tf.reshape(stacked, [k, h, w, C]), [0, 1, 3, 2]), [k * h * C, w]);
    const fw = tf.matMul(alongW, bandMatrix(w), false, true);
    const w2 = w - SSIM_WINDOW + 1;
    // Filter along H: [5n, h, C·w'] -> [h, 5n·C·w'], Gh · that -> [h', 5n·C·w'].
    const alongH = tf.reshape(tf.transpose(tf.reshape(fw, [k, h, C * w2]), [1, 0, 2]), [h, k * C * w2]);
    const h2 = h - SSIM_WINDOW + 1;
    const f = tf.reshape(tf.matMul(bandMatrix(h), alongH), [h2, 5, n * C * w2]);
    const [mu1, mu2, e11, e22, e12] = tf.unstack(f, 1);
    const mu11 = tf.mul(mu1, mu1);
    const mu22 = tf.mul(mu2, mu2);
    const mu12 = tf.mul(mu1, mu2);
    const num = tf.mul(tf.add(tf.mul(mu12, 2), c1), tf.add(tf.mul(tf.sub(e12, mu12), 2), c2));
    const den = tf.mul(tf.add(tf.add(mu11, mu22), c1), tf.add(tf.add(tf.sub(e11, mu11), tf.sub(e22, mu22)), c2));
    return tf.mean(tf.div(num, den)) as tf.Scalar;
  });
}
