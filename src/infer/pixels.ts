/**
 * Inference reads from and writes to images of any sample type ({@link RawImage}: 8-bit, 16-bit or float, 1 to 4
 * interleaved channels). The colour part (RGB, or gray replicated to RGB) goes through the model; the alpha channel,
 * when present, is upscaled on its own and written back next to it.
 */
import { ShapeError } from '../errors';
import { imageFrom, isFloatSamples, sampleMax, samplesLike, type ImageSamples, type IntegerSamples, type RawImage } from '../io/raw-image';

/** Which part of an image a pass processes: the colour (3 channels to the model) or the alpha channel. */
export type Plane = 'color' | 'alpha';

/** True when the image has an alpha channel. */
export function hasAlpha(p: RawImage<ImageSamples>): boolean {
  return p.channels === 2 || p.channels === 4;
}

/** Channels the model sees for a plane: 3 for colour (gray is replicated), 1 for alpha. */
export function planeChannels(plane: Plane): 1 | 3 {
  return plane === 'color' ? 3 : 1;
}

/**
 * Allocates an output image like `src` but `scale` times larger: same sample type, or float32 (`'float'`), or
 * 8-bit (`'byte'`).
 */
export function allocLike(src: RawImage<ImageSamples>, scale: number, kind: 'same' | 'float' | 'byte' = 'same'): RawImage<ImageSamples> {
  const width = src.width * scale;
  const height = src.height * scale;
  const n = width * height * src.channels;
  if (!Number.isSafeInteger(n) || n > 2 ** 32) {
    throw new ShapeError(`output ${width}x${height}x${src.channels} is too large to hold in memory; use a smaller scale`);
  }
  const data = kind === 'float' ? new Float32Array(n) : kind === 'byte' ? new Uint8Array(n) : samplesLike(src.data, n);
  return imageFrom(data, width, height, src.channels);
}

/**
 * How a tile's float values are ordered: `'nhwc'` interleaved (R, G, B of a pixel next to each other, as TF.js models
 * take them) or `'nchw'` planar (all R, then all G, then all B, as ONNX convolutions take them, so an ONNX graph
 * needs no Transpose at either end). A 1-channel (alpha) tile is the same in both.
 */
export type TileLayout = 'nhwc' | 'nchw';

/**
 * Reads the rectangle `[x0, x0 + w) × [y0, y0 + h)` of one plane as float in [0, 1] (3 channels for colour, 1 for
 * alpha), HWC or, with `layout: 'nchw'`, CHW.
 */
export function readTile(src: RawImage<ImageSamples>, plane: Plane, x0: number, y0: number, w: number, h: number, layout: TileLayout = 'nhwc'): Float32Array {
  const c = src.channels;
  const inv = 1 / sampleMax(src.data);
  const d = src.data;
  if (plane === 'alpha') {
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      let i = ((y0 + y) * src.width + x0) * c + c - 1;
      for (let x = 0; x < w; x++, i += c) out[y * w + x] = d[i] * inv;
    }
    return out;
  }
  const out = new Float32Array(w * h * 3);
  if (layout === 'nchw') {
    const n = w * h;
    for (let y = 0; y < h; y++) {
      let i = ((y0 + y) * src.width + x0) * c;
      let o = y * w;
      const gray = c < 3 ? 0 : 1;
      for (let x = 0; x < w; x++, i += c, o++) {
        out[o] = d[i] * inv;
        out[o + n] = d[i + gray] * inv;
        out[o + 2 * n] = d[i + 2 * gray] * inv;
      }
    }
    return out;
  }
  for (let y = 0; y < h; y++) {
    let i = ((y0 + y) * src.width + x0) * c;
    let o = y * w * 3;
    if (c >= 3) {
      for (let x = 0; x < w; x++, i += c, o += 3) {
        out[o] = d[i] * inv;
        out[o + 1] = d[i + 1] * inv;
        out[o + 2] = d[i + 2] * inv;
      }
    } else {
      for (let x = 0; x < w; x++, i += c, o += 3) {
        const v = d[i] * inv;
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
      }
    }
  }
  return out;
}

/**
 * Writes `rows` (float HWC, full output width, 3 channels for colour or 1 for alpha; CHW with `layout: 'nchw'`) into
 * `dst` from row `y0`. Colour into a gray image takes the mean of R, G and B. Integer samples are rounded and
 * clamped; float samples are written as they are.
 */
export function writeRows(dst: RawImage<ImageSamples>, plane: Plane, rows: Float32Array, y0: number, nRows: number, layout: TileLayout = 'nhwc'): void {
  const c = dst.channels;
  const pc = planeChannels(plane);
  const W = dst.width;
  const d = dst.data;
  const isFloat = isFloatSamples(d);
  const max = sampleMax(d);
  if (plane === 'color' && c === 3 && !isFloat) {
    // The common case (RGB into 8 / 16-bit) in one flat loop: several times faster than the general one below, same values.
    if (layout === 'nchw') writeIntRgbPlanar(d, rows, y0 * W * 3, nRows * W, max);
    else writeIntRgb(d, rows, y0 * W * 3, nRows * W * 3, max);
    return;
  }
  if (plane === 'color' && layout === 'nchw') rows = interleave(rows, nRows * W);
  const put = (i: number, v: number) => {
    if (isFloat) d[i] = v;
    else {
      const q = Math.round(v * max);
      d[i] = q < 0 ? 0 : q > max ? max : q;
    }
  };
  for (let y = 0; y < nRows; y++) {
    const rowOut = (y0 + y) * W * c;
    const rowIn = y * W * pc;
    for (let x = 0; x < W; x++) {
      const o = rowOut + x * c;
      const s = rowIn + x * pc;
      if (plane === 'alpha') put(o + c - 1, rows[s]);
      else if (c >= 3) {
        put(o, rows[s]);
        put(o + 1, rows[s + 1]);
        put(o + 2, rows[s + 2]);
      } else put(o, (rows[s] + rows[s + 1] + rows[s + 2]) / 3);
    }
  }
}

/**
 * `d[offset + i] = clamp(round(rows[i] · max), 0, max)` for `i < n`: {@link writeRows} for RGB integer samples.
 * `(v + 0.5) | 0` is `Math.round(v)` here (0 < v < max ≤ 65535, and a float32 times max has too few bits for
 * `v + 0.5` to round up), and several times faster; NaN gives 0 either way.
 */
function writeIntRgb(d: IntegerSamples, rows: Float32Array, offset: number, n: number, max: number): void {
  for (let i = 0; i < n; i++) {
    const v = rows[i] * max;
    d[offset + i] = v <= 0 ? 0 : v >= max ? max : (v + 0.5) | 0;
  }
}

/** {@link writeIntRgb} from planar rows: `n` pixels, the R plane, then G, then B. */
function writeIntRgbPlanar(d: IntegerSamples, rows: Float32Array, offset: number, n: number, max: number): void {
  for (let i = 0, o = offset; i < n; i++, o += 3) {
    const r = rows[i] * max;
    const g = rows[i + n] * max;
    const b = rows[i + 2 * n] * max;
    d[o] = r <= 0 ? 0 : r >= max ? max : (r + 0.5) | 0;
    d[o + 1] = g <= 0 ? 0 : g >= max ? max : (g + 0.5) | 0;
    d[o + 2] = b <= 0 ? 0 : b >= max ? max : (b + 0.5) | 0;
  }
}

/**
 * @internal Planar RGB (`n` pixels per plane) to interleaved, or (`toPlanar`) back.
 *
 * @example
 * ```ts
 * interleave(Float32Array.of(1, 2, 10, 20, 100, 200), 2); // [1, 10, 100, 2, 20, 200]
 * ```
 */
export function interleave(x: Float32Array, n: number, toPlanar = false): Float32Array {
  const out = new Float32Array(3 * n);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < n; i++) {
      if (toPlanar) out[k * n + i] = x[3 * i + k];
      else out[3 * i + k] = x[k * n + i];
    }
  }
  return out;
}
