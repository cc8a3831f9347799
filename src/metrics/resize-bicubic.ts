import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { assertRawImage, imageFrom, isFloatSamples, sampleMax, samplesLike, type ImageSamples, type RawImage } from '../io/raw-image';
import { imresizeFloat } from './imresize';
import { resizeBicubicTensor, type ResizeTensorOptions } from './resize-tensor';

/**
 * Options of {@link resizeBicubic}.
 *
 * @example
 * ```ts
 * const opts: ResizeBicubicOptions = { antialias: true };
 * ```
 */
export interface ResizeBicubicOptions extends ResizeTensorOptions {
  /** Widen the kernel by `1 / scale` when downscaling (MATLAB's default, `true`). */
  antialias?: boolean;
  /**
   * Tensors only: quantise to 8-bit levels after each pass like MATLAB on uint8 data (default `false`:
   * float, unrounded). A {@link RawImage} with integer samples is always rounded, as MATLAB does for integer images.
   */
  round?: boolean;
  /** Tensors only: how the resize runs on the backend (see {@link ResizeTensorOptions.method}). */
  method?: ResizeTensorOptions['method'];
}

/**
 * Resizes an image exactly like MATLAB's `imresize(image, scale, 'bicubic')`, the resize the super-resolution
 * literature uses to make LR images and the "Bicubic" baseline: Keys' cubic (a = -0.5), kernel widened by
 * `1 / scale` when downscaling with antialiasing, symmetric boundary, output size `ceil(size · scale)`.
 *
 * - A {@link RawImage} returns a RawImage of the same sample type and channels. Integer samples (8- or 16-bit) are
 *   rounded and saturated after each pass like MATLAB's uint8/uint16 path; float samples are not rounded. Plain JS,
 *   separable, float64.
 * - A `[H, W, C]` (or `[N, H, W, C]`) tensor returns a float tensor of the same rank, unrounded unless
 *   `round: true`; it runs on the active TF.js backend. The input is not disposed.
 *
 * `scaleOrSize` is a factor (`1/4` to downscale by 4, `2` to upscale) or `[outHeight, outWidth]`.
 *
 * @example
 * ```ts
 * const hr = modCrop(await readImage('Set5/HR/baby.png'), 4);
 * const lr = resizeBicubic(hr, 1 / 4);        // RawImage, uint8, like MATLAB
 * const up = resizeBicubic(tf.zeros([8, 8, 3]) as tf.Tensor3D, 2); // Tensor3D [16, 16, 3]
 * ```
 */
export function resizeBicubic<T extends RawImage<ImageSamples> | tf.Tensor3D | tf.Tensor4D>(
  image: T,
  scaleOrSize: number | readonly [number, number],
  opts: ResizeBicubicOptions = {},
): T {
  if (image instanceof tf.Tensor) {
    return resizeBicubicTensor(image as tf.Tensor3D | tf.Tensor4D, scaleOrSize, opts) as T;
  }
  const img = image as RawImage<ImageSamples>;
  if (typeof img !== 'object' || img === null || !('data' in img)) {
    throw new ShapeError('resizeBicubic expects a RawImage ({ data, width, height, channels }) or a tf.Tensor3D/4D');
  }
  assertRawImage(img);
  const out = imresizeFloat(img, scaleOrSize, { antialias: opts.antialias, roundTo: isFloatSamples(img.data) ? undefined : sampleMax(img.data) });
  const data = samplesLike(img.data, out.data.length);
  data.set(out.data);
  return imageFrom(data, out.width, out.height, img.channels) as T;
}
