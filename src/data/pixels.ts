import { ShapeError } from '../errors';
import { sampleMax, toFloatRgb, type ImageSamples, type RawImage } from '../io/raw-image';

/**
 * Converts an image to the compact RGB the data pipeline keeps in memory, `channels: 3` (gray replicated, alpha
 * dropped): 8-bit images stay `Uint8Array` (levels 0–255), others become `Float32Array` in [0, 1].
 *
 * @example
 * ```ts
 * const img = rgbFromRaw(await readImage('t1.png'));
 * const patch = cropReflect(img, 10, 20, 48, 48); // Float32Array, 48·48·3, in [0, 1]
 * ```
 */
export function rgbFromRaw(raw: RawImage<ImageSamples>): RawImage<Uint8Array | Float32Array> {
  const { width, height, channels } = raw;
  if (!(raw.data instanceof Uint8Array)) return { data: toFloatRgb(raw), width, height, channels: 3 };
  const src = raw.data;
  if (channels === 3) return { data: src, width, height, channels: 3, bits: 8 };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    if (channels === 4) {
      out[3 * i] = src[o];
      out[3 * i + 1] = src[o + 1];
      out[3 * i + 2] = src[o + 2];
    } else {
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[o];
    }
  }
  return { data: out, width, height, channels: 3, bits: 8 };
}

/** Bytes an image's samples hold (for cache budgets). */
export function imageBytes(img: RawImage<ImageSamples>): number {
  return img.data.byteLength;
}

/** Half-sample symmetric reflection of index `i` into `[0, n)` (MATLAB `imresize` padding: -1 → 0, n → n-1). */
export function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/**
 * Crops a `w×h` window of an RGB image (`channels: 3`, any sample type) whose top-left corner is `(x0, y0)`,
 * reflecting (half-sample symmetric) outside the image, restricted to the top-left `limitW×limitH` region (used for
 * mod-crop). Returns float32 RGB in [0, 1].
 *
 * @example
 * ```ts
 * const p = cropReflect(img, -4, -4, 56, 56); // 4 mirrored pixels of margin on the top and left
 * ```
 */
export function cropReflect(
  img: RawImage<ImageSamples>,
  x0: number,
  y0: number,
  w: number,
  h: number,
  limitW = img.width,
  limitH = img.height,
  out = new Float32Array(w * h * 3),
): Float32Array {
  if (img.channels !== 3) throw new ShapeError(`cropReflect takes RGB images (3 channels), got ${img.channels}`);
  if (out.length !== w * h * 3) throw new ShapeError(`crop buffer has ${out.length} floats, expected ${w * h * 3}`);
  const { data, width } = img;
  const xs = new Int32Array(w);
  for (let x = 0; x < w; x++) xs[x] = 3 * reflectIndex(x0 + x, limitW);
  const scale = 1 / sampleMax(data);
  let o = 0;
  for (let y = 0; y < h; y++) {
    const row = reflectIndex(y0 + y, limitH) * width * 3;
    for (let x = 0; x < w; x++) {
      const i = row + xs[x];
      out[o++] = data[i] * scale;
      out[o++] = data[i + 1] * scale;
      out[o++] = data[i + 2] * scale;
    }
  }
  return out;
}

/**
 * Applies one of the 8 flips/rotations by 90° (the dihedral group) to a square `n×n×3` patch.
 * `t` bit 2 transposes, bit 0 flips left-right, bit 1 flips up-down; `t = 0` copies.
 *
 * @example
 * ```ts
 * const rotated = dihedral(patch, 48, 5);
 * ```
 */
export function dihedral(src: Float32Array, n: number, t: number, out = new Float32Array(src.length)): Float32Array {
  if (src.length !== n * n * 3) throw new ShapeError(`dihedral: expected ${n}x${n}x3 floats, got ${src.length}`);
  const transpose = (t & 4) !== 0;
  const flipX = (t & 1) !== 0;
  const flipY = (t & 2) !== 0;
  let o = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let sy = transpose ? x : y;
      let sx = transpose ? y : x;
      if (flipX) sx = n - 1 - sx;
      if (flipY) sy = n - 1 - sy;
      const i = 3 * (sy * n + sx);
      out[o++] = src[i];
      out[o++] = src[i + 1];
      out[o++] = src[i + 2];
    }
  }
  return out;
}

/**
 * Rounds float samples in [0, 1] to 8-bit levels in place (as if saved to and read back from a PNG), clamping.
 *
 * @example
 * ```ts
 * quantize8(lrPatch);
 * ```
 */
export function quantize8(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) {
    const v = Math.round(a[i] * 255);
    a[i] = (v < 0 ? 0 : v > 255 ? 255 : v) / 255;
  }
  return a;
}
