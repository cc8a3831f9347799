/**
 * RGB → Y′CbCr 4:2:0 (I420: the Y plane, then Cb and Cr at half width and height), studio range, the conversion a
 * video encoder's input needs. `sharpenVideo` writes the model's output to the encoder in this form when the output
 * pixel format is yuv420p (the default): the frame on the pipe is half the size of RGB, and ffmpeg does no colour
 * conversion of its own.
 *
 * Per pixel, with R, G, B in [0, 1] (clamped first, as 8-bit RGB would be) and the matrix's luma weights Kr, Kb
 * (Kg = 1 − Kr − Kb): E = Kr·R + Kg·G + Kb·B, Y = 16 + 219·E. Per 2×2 block, from the mean R̄, Ḡ, B̄ and its Ē:
 * Cb = 128 + 224·(B̄ − Ē) / (2(1 − Kb)), Cr = 128 + 224·(R̄ − Ē) / (2(1 − Kr)), all rounded to the nearest level.
 * Chroma is sited at the centre of its block (the mean of the four pixels).
 */
import { ConfigError } from '../errors';

/** Luma weights (Kr, Kb) of the colour matrices ffmpeg names. */
const MATRICES: Record<string, readonly [number, number]> = {
  bt709: [0.2126, 0.0722],
  smpte170m: [0.299, 0.114],
  bt470bg: [0.299, 0.114],
  smpte240m: [0.212, 0.087],
  fcc: [0.3, 0.11],
  bt2020: [0.2627, 0.0593],
};

/** Coefficients of one conversion, scaled for inputs in [0, 1]. */
interface Coefficients {
  yr: number;
  yg: number;
  yb: number;
  /** Cb = 128.5 + cb·(B − E), Cr = 128.5 + cr·(R − E) (the 0.5 rounds when truncated). */
  cb: number;
  cr: number;
}

function coefficients(matrix: string): Coefficients {
  const m = MATRICES[matrix];
  if (!m) throw new ConfigError(`unknown colour matrix "${matrix}": use one of ${Object.keys(MATRICES).join(', ')}`);
  const [kr, kb] = m;
  return { yr: 219 * kr, yg: 219 * (1 - kr - kb), yb: 219 * kb, cb: 224 / (2 * (1 - kb)), cr: 224 / (2 * (1 - kr)) };
}

/**
 * The conversion of {@link rgbToI420} as two 1×1 convolutions over planar RGB in [0, 1] (before the studio-range
 * offsets, which are 16 for Y and 128 for Cb and Cr whatever the matrix): `luma` [1, 3, 1, 1] gives Y − 16 per pixel,
 * `chroma` [2, 3, 1, 1] gives Cb − 128 and Cr − 128 of the 2×2 mean of RGB. ONNX graphs that write I420 themselves
 * (`models/onnx/i420-output.ts`) take these as inputs.
 *
 * @example
 * ```ts
 * const { luma } = i420ConvWeights('bt709'); // 219 × [0.2126, 0.7152, 0.0722]
 * ```
 */
export function i420ConvWeights(matrix: string): { luma: Float32Array; chroma: Float32Array } {
  const { yr, yg, yb, cb, cr } = coefficients(matrix);
  const [kr, kg, kb] = [yr / 219, yg / 219, yb / 219];
  return {
    luma: Float32Array.of(yr, yg, yb),
    chroma: Float32Array.of(-cb * kr, -cb * kg, cb * (1 - kb), cr * (1 - kr), -cr * kg, -cr * kb),
  };
}

/** Bytes of an I420 frame of `width × height` (both even). */
export function i420Size(width: number, height: number): number {
  return width * height * 1.5;
}

/**
 * Writes an RGB frame as I420 into `out` (`i420Size(width, height)` bytes; `width` and `height` even). The frame is
 * float in [0, 1] (values outside are clamped), planar (`[3, height, width]`, as planar ONNX graphs return it) or
 * interleaved; or 8-bit interleaved RGB. Planar float is the fast path; the others are made planar float first.
 *
 * @example
 * ```ts
 * const yuv = new Uint8Array(i420Size(1280, 720));
 * rgbToI420(planarOutput, 'planar', 1280, 720, 'bt709', yuv);
 * ```
 */
export function rgbToI420(rgb: Float32Array | Uint8Array, layout: 'planar' | 'interleaved', width: number, height: number, matrix: string, out: Uint8Array): Uint8Array {
  if (width % 2 !== 0 || height % 2 !== 0) throw new ConfigError(`I420 needs an even width and height, got ${width}x${height}`);
  const n = width * height;
  if (rgb.length !== 3 * n) throw new ConfigError(`an RGB frame of ${width}x${height} has ${3 * n} samples, got ${rgb.length}`);
  if (out.length !== i420Size(width, height)) throw new ConfigError(`an I420 frame of ${width}x${height} has ${i420Size(width, height)} bytes, got ${out.length}`);
  const k = coefficients(matrix);
  let planar: Float32Array;
  if (rgb instanceof Float32Array && layout === 'planar') planar = rgb;
  else {
    planar = new Float32Array(3 * n);
    const [ps, cs] = layout === 'planar' ? [1, n] : [3, 1];
    const scale = rgb instanceof Float32Array ? 1 : 1 / 255;
    for (let c = 0; c < 3; c++) for (let p = 0; p < n; p++) planar[c * n + p] = rgb[p * ps + c * cs] * scale;
  }
  planarToI420(planar.subarray(0, n), planar.subarray(n, 2 * n), planar.subarray(2 * n), width, height, k, out);
  return out;
}

/** The conversion of {@link rgbToI420} from three float planes, two rows at a time. */
function planarToI420(R: Float32Array, G: Float32Array, B: Float32Array, width: number, height: number, k: Coefficients, out: Uint8Array): void {
  const { yr, yg, yb, cb, cr } = k;
  const n = width * height;
  const cw = width / 2;
  const uOff = n;
  const vOff = n + n / 4;
  for (let y = 0; y < height; y += 2) {
    const row0 = y * width;
    const row1 = row0 + width;
    let c = uOff + (y >> 1) * cw;
    for (let x = 0; x < width; x += 2, c++) {
      const a = row0 + x;
      const b = row1 + x;
      // Clamped with conditionals (faster here than Math.min / Math.max).
      let r0 = R[a], r1 = R[a + 1], r2 = R[b], r3 = R[b + 1];
      let g0 = G[a], g1 = G[a + 1], g2 = G[b], g3 = G[b + 1];
      let b0 = B[a], b1 = B[a + 1], b2 = B[b], b3 = B[b + 1];
      r0 = r0 < 0 ? 0 : r0 > 1 ? 1 : r0;
      r1 = r1 < 0 ? 0 : r1 > 1 ? 1 : r1;
      r2 = r2 < 0 ? 0 : r2 > 1 ? 1 : r2;
      r3 = r3 < 0 ? 0 : r3 > 1 ? 1 : r3;
      g0 = g0 < 0 ? 0 : g0 > 1 ? 1 : g0;
      g1 = g1 < 0 ? 0 : g1 > 1 ? 1 : g1;
      g2 = g2 < 0 ? 0 : g2 > 1 ? 1 : g2;
      g3 = g3 < 0 ? 0 : g3 > 1 ? 1 : g3;
      b0 = b0 < 0 ? 0 : b0 > 1 ? 1 : b0;
      b1 = b1 < 0 ? 0 : b1 > 1 ? 1 : b1;
      b2 = b2 < 0 ? 0 : b2 > 1 ? 1 : b2;
      b3 = b3 < 0 ? 0 : b3 > 1 ? 1 : b3;
      const e0 = yr * r0 + yg * g0 + yb * b0;
      const e1 = yr * r1 + yg * g1 + yb * b1;
      const e2 = yr * r2 + yg * g2 + yb * b2;
      const e3 = yr * r3 + yg * g3 + yb * b3;
      // Truncating x + 0.5 rounds: every value here is positive and within [16.5, 240.5].
      out[a] = (16.5 + e0) | 0;
      out[a + 1] = (16.5 + e1) | 0;
      out[b] = (16.5 + e2) | 0;
      out[b + 1] = (16.5 + e3) | 0;
      const e = (e0 + e1 + e2 + e3) * (0.25 / 219);
      out[c] = (128.5 + cb * ((b0 + b1 + b2 + b3) * 0.25 - e)) | 0;
      out[c - uOff + vOff] = (128.5 + cr * ((r0 + r1 + r2 + r3) * 0.25 - e)) | 0;
    }
  }
}
