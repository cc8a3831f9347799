import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';
import { assertRawImage, isRawImage, samplesLike, type ImageSamples, type RawImage } from '../io/raw-image';

/**
 * Crops an image to height and width multiples of `scale`, keeping the top-left corner (MATLAB's `modcrop`), as
 * the literature does to HR images before making LR ones. Accepts a {@link RawImage} (returns a copy) or a
 * `[H, W, C]` / `[N, H, W, C]` tensor (returns a new tensor; the input is not disposed).
 *
 * @example
 * ```ts
 * const hr = modCrop(await readImage('Set14/HR/comic.png'), 3); // 250x361 -> 249x360
 * ```
 */
export function modCrop<T extends RawImage<ImageSamples> | tf.Tensor3D | tf.Tensor4D>(image: T, scale: number): T {
  if (!(Number.isInteger(scale) && scale >= 1)) throw new ConfigError(`modCrop scale must be a positive integer, got ${scale}`);
  if (isRawImage(image)) {
    assertRawImage(image);
    const h = image.height - (image.height % scale);
    const w = image.width - (image.width % scale);
    if (h === 0 || w === 0) throw new ShapeError(`image ${image.width}x${image.height} is smaller than the scale ${scale}`);
    const c = image.channels;
    const data = samplesLike(image.data, h * w * c);
    for (let y = 0; y < h; y++) data.set(image.data.subarray(y * image.width * c, (y * image.width + w) * c), y * w * c);
    return { ...image, data, width: w, height: h } as T;
  }
  const t = image as tf.Tensor3D | tf.Tensor4D;
  if (t.rank !== 3 && t.rank !== 4) throw new ShapeError(`expected a [H, W, C] or [N, H, W, C] tensor, got shape [${t.shape.join(', ')}]`);
  const [H, W] = t.rank === 4 ? [t.shape[1], t.shape[2]] : [t.shape[0], t.shape[1]];
  const h = H - (H % scale);
  const w = W - (W % scale);
  if (h === 0 || w === 0) throw new ShapeError(`image ${W}x${H} is smaller than the scale ${scale}`);
  return (t.rank === 4 ? tf.slice(t, [0, 0, 0, 0], [-1, h, w, -1]) : tf.slice(t, [0, 0, 0], [h, w, -1])) as T;
}
