import { ShapeError } from '../errors';

/**
 * The typed arrays an image's samples can live in: {@link IntegerSamples} or {@link FloatSamples}.
 *
 * @example
 * ```ts
 * const data: ImageSamples = new Float32Array(8 * 8 * 3);
 * ```
 */
export type ImageSamples = IntegerSamples | FloatSamples;

/**
 * Integer samples: 8-bit (`Uint8Array`, `Uint8ClampedArray`, levels 0–255) or 16-bit (`Uint16Array`, 0–65535).
 *
 * @example
 * ```ts
 * const data: IntegerSamples = new Uint16Array(8 * 8 * 3);
 * ```
 */
export type IntegerSamples = Uint8Array | Uint8ClampedArray | Uint16Array;

/**
 * Float samples, in [0, 1] (0 black, 1 white).
 *
 * @example
 * ```ts
 * const data: FloatSamples = new Float64Array(8 * 8);
 * ```
 */
export type FloatSamples = Float32Array | Float64Array;

/**
 * An image in interleaved (HWC) layout: row-major, the channels of a pixel next to each other. It is the one image
 * type of sharpen-kd: what the decoders return and the encoders take, what `Student.sharpenPixels`, the metrics,
 * the resizers and the training data use. `D`, the sample array, defaults to what decoders return (8 or 16 bits).
 *
 * The value range follows from the sample array, everywhere: `Uint8Array` / `Uint8ClampedArray` hold levels
 * 0–255, `Uint16Array` 0–65535, `Float32Array` / `Float64Array` values in [0, 1] (see {@link sampleMax}).
 * Data on another scale (10-bit levels in a `Uint16Array`, floats on 0–255) must be rescaled first; the metrics
 * take a `maxVal` for that.
 *
 * @example
 * ```ts
 * const img: RawImage = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3, bits: 8 };
 * const float: RawImage<Float32Array> = { data: new Float32Array(4 * 4), width: 4, height: 4, channels: 1 };
 * ```
 */
export interface RawImage<D extends ImageSamples = Uint8Array | Uint16Array> {
  /** Samples, row-major, channels interleaved: `width · height · channels` of them. */
  data: D;
  width: number;
  height: number;
  /** 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 2 | 3 | 4;
  /**
   * Bits per integer sample: 8 or 16. It follows from `data` ({@link sampleBits}), so it may be left out; when
   * given it must match. The library sets it on the integer images it returns; float images have none.
   */
  bits?: 8 | 16;
}

/**
 * Bits per sample of an integer sample array (8 for `Uint8Array` / `Uint8ClampedArray`, 16 for `Uint16Array`),
 * `undefined` for float samples.
 *
 * @example
 * ```ts
 * sampleBits(new Uint16Array(3)); // 16
 * ```
 */
export function sampleBits(data: ImageSamples): 8 | 16 | undefined {
  return data instanceof Uint16Array ? 16 : data instanceof Uint8Array || data instanceof Uint8ClampedArray ? 8 : undefined;
}

/**
 * The sample value of full white: 255 for 8-bit arrays, 65535 for `Uint16Array`, 1 for float arrays.
 *
 * @example
 * ```ts
 * const unit = img.data[0] / sampleMax(img.data); // in [0, 1] whatever the sample type
 * ```
 */
export function sampleMax(data: ImageSamples): number {
  const bits = sampleBits(data);
  return bits === 16 ? 65535 : bits === 8 ? 255 : 1;
}

/**
 * True for float sample arrays (values in [0, 1]).
 *
 * @example
 * ```ts
 * if (isFloatSamples(img.data)) console.log('float image');
 * ```
 */
export function isFloatSamples(data: ImageSamples): data is FloatSamples {
  return data instanceof Float32Array || data instanceof Float64Array;
}

function isSampleArray(x: unknown): x is ImageSamples {
  return x instanceof Uint8Array || x instanceof Uint8ClampedArray || x instanceof Uint16Array || x instanceof Float32Array || x instanceof Float64Array;
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
 * Checks that a {@link RawImage} is consistent (positive integer size, 1 to 4 channels, a sample array of the
 * right length and type, `bits` matching it), throwing {@link ShapeError} otherwise.
 *
 * @example
 * ```ts
 * assertRawImage(img);
 * ```
 */
export function assertRawImage(img: RawImage<ImageSamples>): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ShapeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new ShapeError(`image channels must be 1, 2, 3 or 4, got ${channels}`);
  if (!isSampleArray(data)) throw new ShapeError(`image data must be a Uint8Array, Uint8ClampedArray, Uint16Array, Float32Array or Float64Array`);
  if (data.length !== width * height * channels) {
    throw new ShapeError(`image data has ${data.length} samples, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
  assertBits(img);
}

/**
 * Checks that an image's `bits`, when given, matches its sample array, throwing {@link ShapeError} otherwise.
 *
 * @example
 * ```ts
 * assertBits({ data: new Uint16Array(3), width: 1, height: 1, channels: 3, bits: 8 }); // throws
 * ```
 */
export function assertBits(img: RawImage<ImageSamples>): void {
  if (img.bits !== undefined && img.bits !== sampleBits(img.data)) {
    throw new ShapeError(`bits=${img.bits} does not match data type ${img.data.constructor.name}`);
  }
}

/**
 * Wraps samples as a {@link RawImage}, with `bits` set for integer samples.
 *
 * @example
 * ```ts
 * const img = imageFrom(new Uint16Array(4 * 4 * 3), 4, 4, 3); // bits: 16
 * ```
 */
export function imageFrom<D extends ImageSamples>(data: D, width: number, height: number, channels: RawImage['channels']): RawImage<D> {
  const bits = sampleBits(data);
  return bits ? { data, width, height, channels, bits } : { data, width, height, channels };
}

/**
 * A new zeroed sample array of the same type as `like`, `n` samples long (a plain typed array, also when `like` is of
 * a subclass such as Node's `Buffer`).
 *
 * @example
 * ```ts
 * const out = samplesLike(img.data, img.data.length / 4);
 * ```
 */
export function samplesLike<D extends ImageSamples>(like: D, n: number): D {
  const Ctor =
    like instanceof Uint8ClampedArray
      ? Uint8ClampedArray
      : like instanceof Uint8Array
        ? Uint8Array
        : like instanceof Uint16Array
          ? Uint16Array
          : like instanceof Float32Array
            ? Float32Array
            : Float64Array;
  return new Ctor(n) as D;
}

/**
 * True for an object shaped like a {@link RawImage}: a sample array, a size and a channel count (not checked for
 * consistency; see {@link assertRawImage}).
 *
 * @example
 * ```ts
 * if (isRawImage(input)) assertRawImage(input);
 * ```
 */
export function isRawImage(x: unknown): x is RawImage<ImageSamples> {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<RawImage<ImageSamples>>;
  return isSampleArray(o.data) && typeof o.width === 'number' && typeof o.height === 'number' && typeof o.channels === 'number';
}

/**
 * Converts an image to float32 RGB in [0, 1] (gray is replicated, alpha dropped).
 *
 * @example
 * ```ts
 * const rgb = toFloatRgb(img); // Float32Array of length width * height * 3
 * ```
 */
export function toFloatRgb(img: RawImage<ImageSamples>): Float32Array {
  const { width, height, channels, data } = img;
  const n = width * height;
  const out = new Float32Array(n * 3);
  const inv = 1 / sampleMax(data);
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
 * Converts float RGB in [0, 1] to an 8-bit (or 16-bit) RGB image, rounding and clamping.
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
