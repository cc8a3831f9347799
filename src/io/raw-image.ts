import { ShapeError } from '../errors';

/**
 * A decoded image in interleaved (HWC) layout, 8 or 16 bits per sample.
 *
 * @example
 * ```ts
 * const img: RawImage = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3, bits: 8 };
 * ```
 */
export interface RawImage {
  /** Samples, row-major, channels interleaved. */
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 2 | 3 | 4;
  /** Bits per sample: 8 (`Uint8Array`) or 16 (`Uint16Array`). */
  bits: 8 | 16;
}

/**
 * Encoded image formats sharpen-kd writes: the output of `encodeImage`, `writeImage` and `Student.sharpen`.
 *
 * @example
 * ```ts
 * const format: ImageFormat = 'webp';
 * const bytes = await encodeImage(raw, format, { quality: 90 });
 * ```
 */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

/**
 * Checks that a {@link RawImage} is consistent, throwing {@link ShapeError} otherwise.
 *
 * @example
 * ```ts
 * assertRawImage(img);
 * ```
 */
export function assertRawImage(img: RawImage): void {
  const { width, height, channels, data, bits } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ShapeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new ShapeError(`image channels must be 1, 2, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new ShapeError(`image data has ${data.length} samples, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
  if ((bits === 16) !== data instanceof Uint16Array) throw new ShapeError(`bits=${bits} does not match data type ${data.constructor.name}`);
}

/**
 * Converts an image to float32 RGB in [0, 1] (gray is replicated, alpha dropped).
 *
 * @example
 * ```ts
 * const rgb = toFloatRgb(img); // Float32Array of length width * height * 3
 * ```
 */
export function toFloatRgb(img: RawImage): Float32Array {
  const { width, height, channels, data, bits } = img;
  const n = width * height;
  const out = new Float32Array(n * 3);
  const inv = 1 / (bits === 16 ? 65535 : 255);
  for (let i = 0; i < n; i++) {
    if (channels >= 3) {
      out[3 * i] = data[i * channels] * inv;
      out[3 * i + 1] = data[i * channels + 1] * inv;
      out[3 * i + 2] = data[i * channels + 2] * inv;
    } else {
      const v = data[i * channels] * inv;
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    }
  }
  return out;
}

/**
 * Converts float RGB in [0, 1] back to 8-bit RGB with rounding and clamping.
 *
 * @example
 * ```ts
 * const img = fromFloatRgb(rgb, width, height);
 * ```
 */
export function fromFloatRgb(rgb: Float32Array, width: number, height: number, bits: 8 | 16 = 8): RawImage {
  if (rgb.length !== width * height * 3) throw new ShapeError(`expected ${width * height * 3} floats, got ${rgb.length}`);
  const max = bits === 16 ? 65535 : 255;
  const data = bits === 16 ? new Uint16Array(rgb.length) : new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) {
    const v = Math.round(rgb[i] * max);
    data[i] = v < 0 ? 0 : v > max ? max : v;
  }
  return { data, width, height, channels: 3, bits };
}
