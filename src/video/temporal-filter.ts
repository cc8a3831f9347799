/**
 * Temporal filter for frame-by-frame upscaling: a motion-adaptive recursive filter that removes the flicker a
 * per-frame model makes of a video's noise on static content, and leaves moving content alone.
 *
 * Per pixel, the new output is blended with the previous filtered output, `S_t = Y_t + a · (S_{t-1} − Y_t)`, with a
 * weight `a` from 0 (take the new frame as it is) to the strength α. The weight comes from the model's input, at its
 * resolution, and holds for the s×s output pixels of each input pixel: the input frame is compared with the same
 * recursive blend of the previous input frames (what `S_{t-1}` was computed from); the mean square difference over
 * the channels and the pixel's 3×3 neighbourhood, in units of σ² (σ: the standard deviation of the difference of two
 * frames' noise), is z²; and `a` falls from α to 0 as the largest z² of the 3×3 neighbourhood grows from LOW² to
 * HIGH². So where the input holds still (up to its noise) the output averages over frames, and where it moves the
 * output follows at once; a slow drift accumulates against the blended reference until it passes the threshold, so
 * it is never lagged by more than about its noise. σ is estimated from every frame pair (see `noiseEstimate`) and
 * the smallest estimate of the last few frames is used, or it is given (`noise`). A frame where most of the picture
 * changed (a scene cut) resets the filter: it is passed through, and filtering starts again from it.
 *
 * Streaming: the filter keeps the previous output (16-bit fixed point), the blended input and the previous input
 * frame, nothing more. No TF.js and no Node modules: it runs in the browser too. The per-sample blend, most of the
 * work, is in `temporal-blend.ts` (WebAssembly SIMD, or JavaScript with the same results).
 */
import { ConfigError, ShapeError } from '../errors';
import type { RawImage } from '../io/raw-image';
import { PlaneBlender, WEIGHT_ONE, type FramePlane } from './temporal-blend';

export type { FramePlane } from './temporal-blend';

/**
 * Options of {@link TemporalFilter}.
 *
 * @example
 * ```ts
 * const opts: TemporalFilterOptions = { strength: 0.5, noise: 2 };
 * ```
 */
export interface TemporalFilterOptions {
  /**
   * Largest weight of the previous output, from 0 (off: every frame passes as it is) to 0.95. On static content
   * with white input noise, the frame-to-frame change of the output falls to `(1 − α) / √(1 + α)` of what it was
   * (0.41 at α = 0.5). Default 0.5.
   */
  strength?: number;
  /**
   * Standard deviation of the input's noise in 8-bit levels, taken as independent per pixel, channel and frame.
   * Default: estimated from every pair of frames.
   */
  noise?: number;
}

/**
 * Counters of a {@link TemporalFilter}.
 *
 * @example
 * ```ts
 * const { frames, resets, noise } = filter.stats;
 * ```
 */
export interface TemporalFilterStats {
  /** Frames filtered so far. */
  frames: number;
  /** Frames that reset the filter (scene cuts, or a change of frame size), not counting the first. */
  resets: number;
  /**
   * The noise level used for the last frame, as the standard deviation of white input noise in 8-bit levels
   * (the `noise` option, or the estimate); undefined before the second frame.
   */
  noise?: number;
}

/** @internal The default strength of {@link TemporalFilter} and of `sharpenVideo`'s `temporal` option. */
export const DEFAULT_TEMPORAL_STRENGTH = 0.5;

/**
 * Full weight up to a local RMS difference of LOW·σ, none from HIGH·σ (σ: of the difference of two frames' noise).
 * On static content the RMS difference to the blended reference is √((1 + ρ) / 2)·σ, ρ = (1 − α) / (1 + α) the
 * share of the noise variance left in the reference (0.82 σ at α = 0.5), give or take 0.1 σ over 27 samples.
 */
const LOW = 1;
const HIGH = 1.6;
/** A frame is a cut when more than this share of its pixels differ by more than HIGH·σ. */
const CUT_SHARE = 0.6;
/** Frames whose noise estimates are pooled (the smallest one is used). */
const NOISE_HISTORY = 8;
/** Smallest σ used, in levels: below it the input counts as noiseless. */
const MIN_SIGMA = 0.25;
/** The lower quartile of |N(0, σ)| is 0.3186 σ. */
const QUARTILE_OF_ABS_NORMAL = 0.31863936396437514;
/** Histogram bins (whole levels) for the quartiles of the noise estimates: |x ⊛ M| is at most 16 × 255. */
const HIST_BINS = 4096;

type Bytes = Uint8Array | Uint8ClampedArray;

/**
 * A motion-adaptive recursive filter over the frames a model outputs: it averages the output over time where the
 * model's input is static (up to its noise), which removes the flicker a per-frame model makes of the input's noise,
 * and passes moving content and scene cuts through. See the module comment for the method; `sharpenVideo` uses it
 * (its `temporal` option). Feed the frames in order with {@link TemporalFilter.push}; call
 * {@link TemporalFilter.reset} when the source changes. It keeps only the previous frame's state.
 *
 * @example
 * ```ts
 * const filter = new TemporalFilter({ strength: 0.5 });
 * for await (const frame of frames) {
 *   const out = await student.sharpenPixels(frame);
 *   show(filter.push(frame, out as RawImage<Uint8Array>));
 * }
 * ```
 */
export class TemporalFilter {
  /** The strength α in use. */
  readonly strength: number;
  private readonly noise?: number;
  private inW = 0;
  private inH = 0;
  private inC = 0;
  /** The output planes' layout, as text: a frame laid out otherwise starts over. */
  private layout = '';
  /** Previous filtered output (the blender's state). */
  private blender?: PlaneBlender;
  /** The same blend of the input frames (what `state` was made from), and the previous input frame. */
  private ref?: Float32Array;
  private prevInput?: Uint8Array;
  private sigmas: number[] = [];
  private counters: TemporalFilterStats = { frames: 0, resets: 0 };
  private readonly hist = new Uint32Array(HIST_BINS);
  private scratch = new Float32Array(0);

  /** @throws ConfigError for a strength outside [0, 0.95] or a negative noise level. */
  constructor(opts: TemporalFilterOptions = {}) {
    const strength = opts.strength ?? DEFAULT_TEMPORAL_STRENGTH;
    if (typeof strength !== 'number' || !(strength >= 0 && strength <= 0.95)) throw new ConfigError(`the temporal filter's strength (sharpenVideo's temporal, --temporal) must be a number from 0 to 0.95, got ${opts.strength}`);
    if (opts.noise !== undefined && (typeof opts.noise !== 'number' || !(opts.noise >= 0) || !Number.isFinite(opts.noise))) {
      throw new ConfigError(`the temporal filter's noise level (sharpenVideo's temporalNoise, --temporal-noise) must be a number of 8-bit levels >= 0, got ${opts.noise}`);
    }
    this.strength = strength;
    this.noise = opts.noise;
  }

  /** Frames, resets and the noise level so far. */
  get stats(): TemporalFilterStats {
    return { ...this.counters };
  }

  /** Forgets the previous frames: the next frame passes as it is (a new source, a seek). */
  reset(): void {
    this.blender = undefined;
    this.ref = undefined;
    this.prevInput = undefined;
    this.sigmas = [];
  }

  /**
   * Filters the next frame. `input` is the model's input frame and `output` what the model made of it: 8-bit
   * images with the same channels (1 to 4), `output` an integer multiple s ≥ 1 of `input`'s size on both axes (pass
   * the same image twice to filter a frame against itself). Returns a new image of `output`'s type; neither
   * argument is changed. A frame of another size than the previous one starts over.
   *
   * @throws ShapeError when the images are not 8-bit, their channels differ, or the sizes are not a whole multiple.
   */
  push<D extends Uint8Array | Uint8ClampedArray>(input: RawImage<Uint8Array | Uint8ClampedArray>, output: RawImage<D>): RawImage<D> {
    checkFrames(input, output);
    return { ...output, data: this.pushPlanes(input, output.data, [{ offset: 0, width: output.width, height: output.height, channels: output.channels }]) };
  }

  /**
   * Filters the next frame given as planes of any size (the output of a video in Y′CbCr 4:2:0, say: a luma plane
   * and two chroma planes at half size), each pixel weighted by the input pixel it lies in (see {@link FramePlane}).
   * `input` is the model's 8-bit input frame, which the weights come from. Returns the filtered frame: in `into`
   * when given (`output` itself filters in place), else in new bytes of `output`'s type; samples outside the planes
   * are copied as they are. A frame laid out otherwise than the previous one starts over.
   *
   * @throws ShapeError when the input is not 8-bit, a plane does not fit in `output`, or `into` is not its size.
   */
  pushPlanes<D extends Uint8Array | Uint8ClampedArray>(input: RawImage<Uint8Array | Uint8ClampedArray>, output: D, planes: readonly FramePlane[], into?: D): D {
    const { inW, inH, c } = checkInput(input);
    const layout = checkPlanes(output, planes);
    if (into !== undefined && into.length !== output.length) throw new ShapeError(`into holds ${into.length} samples, the output frame ${output.length}`);
    const out = into ?? new (output.constructor as new (n: number) => D)(output.length);
    this.counters.frames++;
    if (this.blender && (inW !== this.inW || inH !== this.inH || c !== this.inC || layout !== this.layout || output.length !== this.blender.state.length)) {
      this.reset();
      this.counters.resets++;
    }
    const { blender, ref, prevInput } = this;
    if (this.strength === 0 || !blender || !ref || !prevInput) return this.restart(input, output, out, inW, inH, c, layout, planes);

    const sigma = this.sigma(input.data, prevInput, inW, inH, c);
    this.counters.noise = sigma / Math.SQRT2;
    const n = inW * inH;
    if (this.scratch.length !== 2 * n) this.scratch = new Float32Array(2 * n);
    const x = input.data;
    const weight = motionWeights(x, ref, inW, inH, c, sigma, this.strength, this.scratch);
    if (!weight) {
      this.counters.resets++;
      return this.restart(input, output, out, inW, inH, c, layout, planes);
    }
    const q15 = blender.weights;
    for (let p = 0, i = 0; p < n; p++) {
      const w = Math.round(weight[p] * WEIGHT_ONE);
      q15[p] = w;
      const a = w / WEIGHT_ONE;
      for (let k = 0; k < c; k++, i++) ref[i] = x[i] + a * (ref[i] - x[i]);
    }
    blender.blend(output, out);
    prevInput.set(x);
    return out;
  }

  /** Passes a frame through and makes it the state the next frames blend with. */
  private restart<D extends Bytes>(input: RawImage<Bytes>, output: D, out: D, inW: number, inH: number, c: number, layout: string, planes: readonly FramePlane[]): D {
    if (out !== output) out.set(output);
    if (this.strength === 0) return out;
    const same = this.blender && this.blender.state.length === output.length && layout === this.layout && inW === this.inW && inH === this.inH;
    const blender = same && this.blender ? this.blender : new PlaneBlender(output.length, planes, inW, inH);
    blender.reset(output);
    this.blender = blender;
    this.ref = Float32Array.from(input.data);
    this.prevInput = Uint8Array.from(input.data);
    this.inW = inW;
    this.inH = inH;
    this.inC = c;
    this.layout = layout;
    return out;
  }

  /**
   * σ of the difference of two frames' noise: √2 × the given noise, or the smallest of the recent estimates (see
   * {@link noiseEstimate}).
   */
  private sigma(x: Bytes, prev: Uint8Array, w: number, h: number, c: number): number {
    if (this.noise !== undefined) return Math.max(MIN_SIGMA, this.noise * Math.SQRT2);
    this.sigmas.push(Math.SQRT2 * noiseEstimate(x, prev, w, h, c, this.hist));
    if (this.sigmas.length > NOISE_HISTORY) this.sigmas.shift();
    return Math.max(MIN_SIGMA, Math.min(...this.sigmas));
  }
}

/**
 * Standard deviation of a frame's white noise, levels: the smaller of two estimates that motion and texture can only
 * inflate. Temporal: the lower quartile of |x − prev| (the difference of two frames' noise, √2 σ, where the content
 * holds still). Spatial: the lower quartile of |x ⊛ M|, M = [1 −2 1; −2 4 −2; 1 −2 1] (which cancels flat content,
 * ramps and most smooth shading and keeps 6 σ of white noise; Immerkær 1996), per channel over the interior. Each is
 * robust to up to three quarters of the samples being moving or textured. Frames of 64 rows or more are sampled on
 * every other row.
 */
function noiseEstimate(x: Bytes, prev: Uint8Array, w: number, h: number, c: number, hist: Uint32Array): number {
  // Frames of 64 rows or more: every other row, which leaves tens of thousands of samples for each quartile.
  const step = h >= 64 ? 2 : 1;
  const stride = w * c;
  hist.fill(0);
  let count = 0;
  for (let y = 0; y < h; y += step) {
    for (let i = y * stride, end = i + stride; i < end; i++) hist[Math.abs(x[i] - prev[i])]++;
    count += stride;
  }
  const temporal = lowerQuartile(hist, count) / QUARTILE_OF_ABS_NORMAL / Math.SQRT2;
  if (w < 3 || h < 3) return temporal;
  hist.fill(0);
  count = 0;
  for (let y = 1; y < h - 1; y += step) {
    for (let i = y * stride + c, end = (y + 1) * stride - c; i < end; i++) {
      const u = i - stride;
      const d = i + stride;
      const r = x[u - c] - 2 * x[u] + x[u + c] - 2 * x[i - c] + 4 * x[i] - 2 * x[i + c] + x[d - c] - 2 * x[d] + x[d + c];
      hist[Math.min(HIST_BINS - 1, Math.abs(r))]++;
    }
    count += (w - 2) * c;
  }
  const spatial = lowerQuartile(hist, count) / QUARTILE_OF_ABS_NORMAL / 6;
  return Math.min(temporal, spatial);
}

/**
 * The lower quartile of non-negative whole numbers from their histogram, interpolated as if each value k were
 * spread evenly over [k − ½, k + ½) (0 over [0, ½)).
 */
function lowerQuartile(hist: Uint32Array, count: number): number {
  const target = 0.25 * count;
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    if (seen + hist[b] >= target) {
      const lo = b === 0 ? 0 : b - 0.5;
      return lo + ((b === 0 ? 0.5 : 1) * (target - seen)) / Math.max(1, hist[b]);
    }
    seen += hist[b];
  }
  return hist.length;
}

function checkInput(input: RawImage<Bytes>): { inW: number; inH: number; c: number } {
  if (!(input.data instanceof Uint8Array || input.data instanceof Uint8ClampedArray)) throw new ShapeError(`the temporal filter takes 8-bit frames: the input frame's samples are a ${(input.data as object | undefined)?.constructor?.name}`);
  if (input.data.length !== input.width * input.height * input.channels || input.width < 1 || input.height < 1) {
    throw new ShapeError(`the input frame holds ${input.data.length} samples, not ${input.width}×${input.height}×${input.channels}`);
  }
  return { inW: input.width, inH: input.height, c: input.channels };
}

function checkFrames(input: RawImage<Bytes>, output: RawImage<Bytes>): void {
  for (const [name, img] of [['input', input], ['output', output]] as const) {
    if (!(img.data instanceof Uint8Array || img.data instanceof Uint8ClampedArray)) throw new ShapeError(`the temporal filter takes 8-bit frames: the ${name} frame's samples are a ${(img.data as object | undefined)?.constructor?.name}`);
    if (img.data.length !== img.width * img.height * img.channels || img.width < 1 || img.height < 1) {
      throw new ShapeError(`the ${name} frame holds ${img.data.length} samples, not ${img.width}×${img.height}×${img.channels}`);
    }
  }
  if (input.channels !== output.channels) throw new ShapeError(`the input frame has ${input.channels} channels and the output ${output.channels}: they must match`);
  const s = output.width / input.width;
  if (!Number.isInteger(s) || output.height !== s * input.height) {
    throw new ShapeError(`the output frame (${output.width}×${output.height}) must be a whole multiple of the input frame (${input.width}×${input.height}) on both axes`);
  }
}

/** Checks that every plane lies inside `output`; returns the layout as text. */
function checkPlanes(output: Bytes, planes: readonly FramePlane[]): string {
  if (!(output instanceof Uint8Array || output instanceof Uint8ClampedArray)) throw new ShapeError(`the temporal filter takes 8-bit frames: the output frame's samples are a ${(output as object | undefined)?.constructor?.name}`);
  if (planes.length === 0) throw new ShapeError('the output frame needs at least one plane');
  for (const p of planes) {
    const ok = [p.offset, p.width, p.height, p.channels].every((v) => Number.isInteger(v) && v >= 0) && p.width > 0 && p.height > 0 && p.channels > 0;
    if (!ok || p.offset + p.width * p.height * p.channels > output.length) {
      throw new ShapeError(`plane ${JSON.stringify(p)} does not fit in an output frame of ${output.length} samples`);
    }
  }
  return planes.map((p) => `${p.offset}:${p.width}x${p.height}x${p.channels}`).join(',');
}

/**
 * Per input pixel, the weight of the previous output: the mean square difference between `x` and the reference
 * over the channels and the pixel's 3×3 neighbourhood, in units of σ², is z²; the weight is `alpha` where the
 * largest z² of the 3×3 neighbourhood is at most LOW², falling linearly to 0 at HIGH² (edges replicated). Returns
 * undefined for a cut (more than CUT_SHARE of the pixels beyond HIGH²). `scratch` holds 2·w·h floats; the weights
 * are its first half.
 */
function motionWeights(x: Bytes, ref: Float32Array, w: number, h: number, c: number, sigma: number, alpha: number, scratch: Float32Array): Float32Array | undefined {
  const n = w * h;
  const a = scratch.subarray(0, n);
  const b = scratch.subarray(n, 2 * n);
  const norm = 1 / (9 * c * sigma * sigma);
  for (let p = 0, i = 0; p < n; p++) {
    let e = 0;
    for (let k = 0; k < c; k++, i++) {
      const d = x[i] - ref[i];
      e += d * d;
    }
    a[p] = e * norm;
  }
  // 3×3 sums: rows into b, then columns into a (z²), counting the pixels beyond HIGH².
  sum3Rows(a, b, w, h);
  const high = HIGH * HIGH;
  let moved = 0;
  for (let y = 0; y < h; y++) {
    const u = Math.max(0, y - 1) * w;
    const m = y * w;
    const d = Math.min(h - 1, y + 1) * w;
    for (let col = 0; col < w; col++) {
      const z2 = b[u + col] + b[m + col] + b[d + col];
      a[m + col] = z2;
      if (z2 > high) moved++;
    }
  }
  if (moved > CUT_SHARE * n) return undefined;
  // 3×3 maxima: rows into b, then columns, mapped to weights, into a.
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let col = 0; col < w; col++) b[o + col] = Math.max(a[o + Math.max(0, col - 1)], a[o + col], a[o + Math.min(w - 1, col + 1)]);
  }
  const low = LOW * LOW;
  const slope = alpha / (high - low);
  for (let y = 0; y < h; y++) {
    const u = Math.max(0, y - 1) * w;
    const m = y * w;
    const d = Math.min(h - 1, y + 1) * w;
    for (let col = 0; col < w; col++) {
      const z2 = Math.max(b[u + col], b[m + col], b[d + col]);
      a[m + col] = z2 <= low ? alpha : z2 >= high ? 0 : slope * (high - z2);
    }
  }
  return a;
}

/** `out[p]` = v[p − 1] + v[p] + v[p + 1] along each row (edges replicated). */
function sum3Rows(v: Float32Array, out: Float32Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) out[o + x] = v[o + Math.max(0, x - 1)] + v[o + x] + v[o + Math.min(w - 1, x + 1)];
  }
}
