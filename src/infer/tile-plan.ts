/**
 * Tile layout along one axis, and the feathered blending weights.
 *
 * Tiles of `tile` input pixels step by `tile - (2·margin + feather)`, so neighbours overlap by at least twice the
 * model's receptive field (`margin`) plus a feather band. A tile's output is exact except within `margin` input
 * pixels of its inner edges; there its weight is 0. Across the feather band the weight ramps linearly, and the
 * weights of all tiles are normalised to sum to 1 at every pixel. Every pixel with non-zero weight is exact,
 * so the blended image equals the whole-image output up to float rounding, and the seams are invisible even
 * when the receptive field was underestimated. Weights are separable, so a grid's normalisation factorises
 * per axis.
 */
import { ConfigError } from '../errors';

/** One tile along an axis: input pixels `[start, end)`. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Parameters of a tile layout (all in input pixels).
 *
 * @example
 * ```ts
 * const p: TileParams = { tile: 256, margin: 5, feather: 8, align: 1 };
 * ```
 */
export interface TileParams {
  /** Tile width (input pixels); also the height unless `tileHeight` is set. */
  tile: number;
  /** Tile height, when tiles are not square (short tile rows bound the blending strip on very wide images). */
  tileHeight?: number;
  /** Pixels next to an inner tile edge whose output is not trusted (ceil of the receptive-field radius + 1). */
  margin: number;
  /** Width of the linear blending ramp beyond the margin. */
  feather: number;
  /** Tile origins are multiples of this. */
  align: number;
}

/** Smallest tile size that makes progress for the given margin, feather and alignment. */
export function minTileSize(p: Omit<TileParams, 'tile' | 'tileHeight'>): number {
  return 2 * p.margin + p.feather + p.align;
}

/** The parameters along the vertical axis (tile = tile height). */
export function verticalParams(p: TileParams): TileParams {
  return { ...p, tile: p.tileHeight ?? p.tile };
}

/**
 * Splits `[0, length)` into overlapping spans (see the module doc). One span when `length <= tile`.
 *
 * @example
 * ```ts
 * planSpans(100, { tile: 40, margin: 3, feather: 4, align: 1 }); // [{0,40}, {30,70}, {60,100}]
 * ```
 */
export function planSpans(length: number, p: TileParams): Span[] {
  if (length <= p.tile) return [{ start: 0, end: length }];
  const min = minTileSize(p);
  if (p.tile < min) {
    throw new ConfigError(
      `tile size ${p.tile} is too small for this model: it needs at least ${min} pixels (2 x margin ${p.margin} + feather ${p.feather} + ${p.align}); use a larger --tile`,
    );
  }
  const stride = Math.floor((p.tile - 2 * p.margin - p.feather) / p.align) * p.align;
  const spans: Span[] = [];
  for (let start = 0; ; start += stride) {
    if (start + p.tile >= length) {
      // Last tile: ends at the border; its origin moves left (more overlap) and down to the alignment.
      const s = Math.max(0, Math.floor((length - p.tile) / p.align) * p.align);
      if (spans.length && s <= spans[spans.length - 1].start) spans[spans.length - 1].end = length;
      else spans.push({ start: s, end: length });
      break;
    }
    spans.push({ start, end: start + p.tile });
  }
  return spans;
}

/** Raw (unnormalised) weight of output position `x` (output pixels) for a span, see the module doc. */
function rawWeight(x: number, span: Span, length: number, p: TileParams, scale: number): number {
  const ramp = p.feather * scale;
  let w = 1;
  if (span.start > 0) {
    const lo = (span.start + p.margin) * scale;
    if (x < lo) return 0;
    if (ramp > 0 && x < lo + ramp) w = Math.min(w, (x - lo + 0.5) / ramp);
  }
  if (span.end < length) {
    const hi = (span.end - p.margin) * scale;
    if (x >= hi) return 0;
    if (ramp > 0 && x >= hi - ramp) w = Math.min(w, (hi - x - 0.5) / ramp);
  }
  return w;
}

/**
 * Normalised blending weights of every span over its own output pixels: `weights[i][x - spans[i].start·scale]`.
 * At each output position the weights of the spans covering it sum to 1.
 *
 * @example
 * ```ts
 * const w = spanWeights(spans, 100, params, 2); // w[0].length === (spans[0].end - spans[0].start) * 2
 * ```
 */
export function spanWeights(spans: Span[], length: number, p: TileParams, scale: number): Float32Array[] {
  const outLength = length * scale;
  const total = new Float64Array(outLength);
  const raw = spans.map((s) => {
    const w = new Float64Array((s.end - s.start) * scale);
    for (let i = 0; i < w.length; i++) {
      w[i] = rawWeight(s.start * scale + i, s, length, p, scale);
      total[s.start * scale + i] += w[i];
    }
    return w;
  });
  for (let x = 0; x < outLength; x++) {
    if (!(total[x] > 0)) throw new Error(`internal error: tile layout leaves output pixel ${x} uncovered`);
  }
  return raw.map((w, i) => {
    const out = new Float32Array(w.length);
    const base = spans[i].start * scale;
    for (let k = 0; k < w.length; k++) out[k] = w[k] / total[base + k];
    return out;
  });
}
