/**
 * Runs a model over an image tile by tile and blends the tiles (see `tile-plan.ts`). Tile rows are processed
 * top to bottom and accumulated in a float strip one tile high and one image wide; rows no later tile can
 * touch are written to the output buffer (rounded to its bit depth) and the strip moves on. Working memory is
 * therefore one tile of model activations plus one strip, whatever the image height; the caller makes tile rows
 * shorter on very wide images (`tileHeight`) so that the strip stays within a budget too.
 */
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../core/task';
import type { ImageSamples, RawImage } from '../io/raw-image';
import { planeChannels, readTile, writeRows, type Plane, type TileLayout } from './pixels';
import { planSpans, spanWeights, verticalParams, type TileParams } from './tile-plan';

/** Options of {@link TileRunner.run}. */
export interface TileRunOptions {
  /** The result is read at once and not kept: a runner may return a view of memory it reuses (default false). */
  transient?: boolean;
}

/**
 * Something that upscales one float HWC tile: the model (tfjs or ONNX Runtime) or bicubic interpolation.
 *
 * @example
 * ```ts
 * const out = await runner.run(tile, 64, 64, 3); // Float32Array of 64·s × 64·s × 3
 * ```
 */
export interface TileRunner {
  /** Output size / input size. */
  readonly scale: number;
  /** Channel counts `run` accepts (models: `[3]`; bicubic: any). */
  readonly channels: readonly number[];
  /**
   * How `run` takes and returns colour tiles: `'nhwc'` (the default, `[height, width, 3]`) or `'nchw'` (planar,
   * `[3, height, width]`: ONNX graphs then need no Transpose at either end). 1-channel tiles are the same either way.
   */
  readonly layout?: TileLayout;
  /**
   * Upscales a `[height, width, channels]` float tile (`[channels, height, width]` in `'nchw'` layout) by `scale`.
   * With `transient: true` the caller reads the result before its next `await` and keeps nothing of it: the runner may
   * then return a view of its own memory, valid only until its next call, instead of a new array.
   */
  run(tile: Float32Array, height: number, width: number, channels: number, opts?: TileRunOptions): Promise<Float32Array>;
  /**
   * Runners whose graph writes I420 itself (ONNX Runtime, `i420Output`): upscales a planar RGB tile and returns the
   * output as I420 bytes (Y, then Cb and Cr at half size), converted with `weights` (`i420ConvWeights` of a matrix).
   */
  runI420?(tile: Float32Array, height: number, width: number, weights: { luma: Float32Array; chroma: Float32Array }): Promise<Uint8Array>;
  /**
   * Runners of a luma-detail student with I420 outputs (`i420Output`): runs the planar RGB tile only up to the
   * model's luma detail, `[height·scale, width·scale]` floats, which `infer/luma-detail-tail.ts` turns into the frame.
   */
  runLumaDetail?(tile: Float32Array, height: number, width: number): Promise<Float32Array>;
  /** Frees what the runner holds. */
  dispose(): void;
}

/** Counts tiles over several passes for one progress stream. */
export interface TileCounter {
  done: number;
  total: number;
}

/** Number of tiles {@link runTiled} will run for an image of `width × height`. */
export function countTiles(width: number, height: number, p: TileParams): number {
  return planSpans(width, p).length * planSpans(height, verticalParams(p)).length;
}

/**
 * Upscales one plane of `src` into `dst` (which is `scale` times larger) with `runner`, tile by tile.
 *
 * @example
 * ```ts
 * await runTiled(runner, src, dst, 'color', { tile: 256, margin: 5, feather: 8, align: 1 }, { signal });
 * ```
 */
export async function runTiled(
  runner: TileRunner,
  src: RawImage<ImageSamples>,
  dst: RawImage<ImageSamples>,
  plane: Plane,
  p: TileParams,
  opts: TaskOptions & { counter?: TileCounter } = {},
): Promise<void> {
  const s = runner.scale;
  const pc = planeChannels(plane);
  const layout: TileLayout = pc === 3 ? (runner.layout ?? 'nhwc') : 'nhwc';
  const outW = src.width * s;
  const xs = planSpans(src.width, p);
  const ys = planSpans(src.height, verticalParams(p));
  const wx = spanWeights(xs, src.width, p, s);
  const wy = spanWeights(ys, src.height, verticalParams(p), s);
  const counter = opts.counter ?? { done: 0, total: xs.length * ys.length };

  if (xs.length === 1 && ys.length === 1) {
    // One tile (a video frame, a small image): its weights are all 1, so it is written as is, without a strip.
    throwIfAborted(opts.signal);
    const out = await runner.run(readTile(src, plane, 0, 0, src.width, src.height, layout), src.height, src.width, pc, { transient: true });
    throwIfAborted(opts.signal);
    writeRows(dst, plane, out, 0, src.height * s, layout);
    counter.done++;
    opts.onProgress?.({ stage: 'tile', done: counter.done, total: counter.total });
    return;
  }

  // Strip of accumulated output rows [stripY0, stripY0 + stripRows).
  const maxRows = Math.max(...ys.map((r) => r.end - r.start)) * s;
  const strip = new Float32Array(maxRows * outW * pc);
  let stripY0 = 0;

  for (let j = 0; j < ys.length; j++) {
    const ry = ys[j];
    const th = ry.end - ry.start;
    const oy0 = ry.start * s;
    // Invariant: stripY0 >= oy0, and every row of this tile above stripY0 has weight 0 (it lies in the margin).
    for (let i = 0; i < xs.length; i++) {
      throwIfAborted(opts.signal);
      const rx = xs[i];
      const tw = rx.end - rx.start;
      const tile = readTile(src, plane, rx.start, ry.start, tw, th, layout);
      const out = await runner.run(tile, th, tw, pc, { transient: true });
      throwIfAborted(opts.signal);
      accumulate(strip, out, outW, pc, oy0 - stripY0, rx.start * s, th * s, tw * s, wy[j], wx[i], layout);
      counter.done++;
      opts.onProgress?.({ stage: 'tile', done: counter.done, total: counter.total });
      await yieldToEventLoop();
    }
    // Rows before the next tile row's first non-zero weight are final.
    const finalEnd = j + 1 < ys.length ? Math.min((ys[j + 1].start + p.margin) * s, ry.end * s) : src.height * s;
    const nFinal = finalEnd - stripY0;
    if (nFinal > 0) {
      writeRows(dst, plane, strip.subarray(0, nFinal * outW * pc), stripY0, nFinal);
      const shift = nFinal * outW * pc;
      strip.copyWithin(0, shift);
      strip.fill(0, strip.length - shift);
      stripY0 = finalEnd;
    }
  }
}

/** Adds `out · wy[y] · wx[x]` into the strip (HWC) at (`y0`, `x0`); `out` is HWC, or CHW in `'nchw'` layout. */
function accumulate(
  strip: Float32Array,
  out: Float32Array,
  stripW: number,
  c: number,
  y0: number,
  x0: number,
  h: number,
  w: number,
  wy: Float32Array,
  wx: Float32Array,
  layout: TileLayout,
): void {
  // Element (y, x, k) of `out` is at (y·w + x)·cs + k·ks.
  const [cs, ks] = layout === 'nchw' ? [1, h * w] : [c, 1];
  for (let y = 0; y < h; y++) {
    const a = wy[y];
    if (a === 0) continue;
    const rowS = ((y0 + y) * stripW + x0) * c;
    const rowO = y * w * cs;
    for (let x = 0; x < w; x++) {
      const wgt = a * wx[x];
      if (wgt === 0) continue;
      const si = rowS + x * c;
      const oi = rowO + x * cs;
      for (let k = 0; k < c; k++) strip[si + k] += out[oi + k * ks] * wgt;
    }
  }
}
