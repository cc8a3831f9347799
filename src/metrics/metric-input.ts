/**
 * Turns the images given to {@link psnr} / {@link ssim} (tensors, {@link RawImage}s of any sample type) into
 * float64 planes on the 255 scale, paired, Y-converted and border-cropped, ready for the float64 reductions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';
import { assertBits, isRawImage, sampleMax, type ImageSamples, type RawImage } from '../io/raw-image';
import { yPlane } from './y-channel';

/**
 * What the metrics accept: a `[H, W, C]` / `[N, H, W, C]` tensor in [0, 1], or a {@link RawImage} of any sample
 * type, on the range its samples imply (0–255, 0–65535 or [0, 1]) unless `maxVal` says otherwise. Alpha is ignored.
 *
 * @example
 * ```ts
 * const float: RawImage<Float32Array> = { data: new Float32Array(8 * 8 * 3), width: 8, height: 8, channels: 3 };
 * const inputs: MetricImage[] = [tf.zeros([8, 8, 3]), await readImage('a.png'), float];
 * ```
 */
export type MetricImage = tf.Tensor | RawImage<ImageSamples>;

/**
 * Options shared by {@link psnr} and {@link ssim}.
 *
 * @example
 * ```ts
 * const literature: MetricOptions = { yChannel: true, crop: 4 }; // x4 super-resolution protocol
 * ```
 */
export interface MetricOptions {
  /**
   * Value of full white in the input: default 1 for tensors and float samples, 255 for 8-bit, 65535 for 16-bit.
   * Inputs are rescaled to the 255 scale, so PSNR = 10·log10(maxVal² / MSE) in the input's own units.
   */
  maxVal?: number;
  /** Pixels removed from each border before scoring (the literature uses `crop = scale`). Default 0. */
  crop?: number;
  /** Score the BT.601 Y channel (see `rgbToY`) instead of every channel. Default `false`. */
  yChannel?: boolean;
  /**
   * Round float inputs to 8-bit levels (`round(x · 255)`, clamped) before scoring, as the literature does by
   * saving SR outputs as 8-bit PNGs. Default `false`; integer inputs are already quantised.
   */
  quantize?: boolean;
}

/** A decoded batch: `n` images of `height × width × channels` samples on the 255 scale (alpha dropped). */
interface Decoded {
  images: Float64Array[];
  width: number;
  height: number;
  channels: 1 | 3;
}

async function decode(img: MetricImage, opts: MetricOptions, which: string): Promise<Decoded> {
  let n: number, height: number, width: number, chIn: number, data: ArrayLike<number>, defaultMax: number;
  if (img instanceof tf.Tensor) {
    if (img.rank !== 3 && img.rank !== 4) throw new ShapeError(`${which}: expected a [H, W, C] or [N, H, W, C] tensor, got [${img.shape.join(', ')}]`);
    [n, height, width, chIn] = img.rank === 4 ? img.shape : [1, ...img.shape];
    data = await img.data();
    defaultMax = 1;
  } else if (isRawImage(img)) {
    ({ height, width, channels: chIn, data } = img);
    n = 1;
    if (img.data.length !== width * height * chIn) {
      throw new ShapeError(`${which}: data has ${img.data.length} samples, expected ${width}x${height}x${chIn}`);
    }
    assertBits(img);
    defaultMax = sampleMax(img.data);
  } else {
    throw new ShapeError(`${which}: expected a tf.Tensor or a RawImage ({ data, width, height, channels })`);
  }
  if (![1, 2, 3, 4].includes(chIn)) throw new ShapeError(`${which}: channels must be 1, 2, 3 or 4, got ${chIn}`);
  const maxVal = opts.maxVal ?? defaultMax;
  if (!(maxVal > 0 && Number.isFinite(maxVal))) throw new ConfigError(`maxVal must be a positive number, got ${opts.maxVal}`);
  const k = 255 / maxVal;
  const channels: 1 | 3 = chIn >= 3 ? 3 : 1;
  const pixels = height * width;
  const images: Float64Array[] = [];
  for (let b = 0; b < n; b++) {
    const out = new Float64Array(pixels * channels);
    const base = b * pixels * chIn;
    for (let i = 0; i < pixels; i++) {
      for (let c = 0; c < channels; c++) {
        let v = data[base + i * chIn + c] * k;
        if (opts.quantize) v = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        out[i * channels + c] = v;
      }
    }
    images.push(out);
  }
  return { images, width, height, channels };
}

/** Channel planes of one image pair, ready to score: same size, same count. */
export interface PlanePair {
  a: Float64Array[];
  b: Float64Array[];
  width: number;
  height: number;
}

function planes(img: Float64Array, pixels: number, channels: number, replicateTo: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let c = 0; c < replicateTo; c++) {
    const src = channels === 1 ? 0 : c;
    const p = new Float64Array(pixels);
    for (let i = 0; i < pixels; i++) p[i] = img[i * channels + src];
    out.push(p);
  }
  return out;
}

function cropPlane(p: Float64Array, width: number, height: number, crop: number): Float64Array {
  if (crop === 0) return p;
  const w = width - 2 * crop;
  const h = height - 2 * crop;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) out.set(p.subarray((y + crop) * width + crop, (y + crop) * width + crop + w), y * w);
  return out;
}

/**
 * @internal Decodes, checks and pairs two inputs; one {@link PlanePair} per image of the batch.
 */
export async function pairPlanes(a: MetricImage, b: MetricImage, opts: MetricOptions): Promise<PlanePair[]> {
  const crop = opts.crop ?? 0;
  if (!(Number.isInteger(crop) && crop >= 0)) throw new ConfigError(`crop must be a non-negative integer, got ${crop}`);
  const [da, db] = await Promise.all([decode(a, opts, 'first image'), decode(b, opts, 'second image')]);
  if (da.width !== db.width || da.height !== db.height) {
    throw new ShapeError(
      `images differ in size: ${da.width}x${da.height} vs ${db.width}x${db.height}. ` +
        'Compare images of the same size (mod-crop the HR image to a multiple of the scale with modCrop).',
    );
  }
  if (da.images.length !== db.images.length) throw new ShapeError(`batch sizes differ: ${da.images.length} vs ${db.images.length}`);
  const { width, height } = da;
  const w = width - 2 * crop;
  const h = height - 2 * crop;
  if (w <= 0 || h <= 0) throw new ConfigError(`crop ${crop} removes the whole ${width}x${height} image; use a smaller crop`);
  const pixels = width * height;
  const pairs: PlanePair[] = [];
  for (let i = 0; i < da.images.length; i++) {
    let pa: Float64Array[], pb: Float64Array[];
    if (opts.yChannel) {
      // Both RGB: studio-range Y. A gray image is its own Y; its RGB partner becomes full-range luma.
      const studio = da.channels === 3 && db.channels === 3;
      pa = [yPlane(da.images[i], 0, pixels, da.channels, studio)];
      pb = [yPlane(db.images[i], 0, pixels, db.channels, studio)];
    } else {
      const c = Math.max(da.channels, db.channels);
      pa = planes(da.images[i], pixels, da.channels, c);
      pb = planes(db.images[i], pixels, db.channels, c);
    }
    pairs.push({ a: pa.map((p) => cropPlane(p, width, height, crop)), b: pb.map((p) => cropPlane(p, width, height, crop)), width: w, height: h });
  }
  return pairs;
}
