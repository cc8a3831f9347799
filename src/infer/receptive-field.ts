/**
 * Receptive field of a fully convolutional model, read off its layers: how far (in input pixels) an output
 * pixel can see. Tiling needs it: a tile's output is only exact farther than this from the tile's inner
 * edges, so tiles overlap by at least twice the radius and the margins are thrown away.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * What {@link receptiveField} returns.
 *
 * @example
 * ```ts
 * const rf: ReceptiveField = { radius: 4, align: 1, unknownLayers: [] };
 * ```
 */
export interface ReceptiveField {
  /** Input pixels on each side of an output pixel's position that can influence it (an upper bound). */
  radius: number;
  /** Tile origins must be multiples of this (product of the strides of downsampling layers). */
  align: number;
  /** Layer classes this analysis does not know; each was assumed to reach {@link UNKNOWN_LAYER_RADIUS} pixels. */
  unknownLayers: string[];
}

/**
 * Radius assumed for a layer class that {@link receptiveField} does not know.
 *
 * @example
 * ```ts
 * UNKNOWN_LAYER_RADIUS; // 8
 * ```
 */
export const UNKNOWN_LAYER_RADIUS = 8;

/** Per-pixel layers: they do not widen the receptive field. */
const POINTWISE = new Set([
  'InputLayer', 'Activation', 'ReLU', 'PReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'Add', 'Subtract',
  'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dense', 'BatchNormalization', 'LayerNormalization',
  'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Rescale', 'Rescaling',
  'CropToScaledInput', 'Lambda',
  // Image-wide, which no tile margin could cover: each tile is gated by its own mean (models/layers/global-gate.ts).
  'GlobalGate',
]);

interface Reach {
  /** Radius in model-input pixels. */
  radius: number;
  /** Output pixels of this layer per model-input pixel. */
  factor: number;
  align: number;
}

type AnyLayer = tfl.layers.Layer & { inboundNodes?: Array<{ inboundLayers: AnyLayer[] }>; layers?: AnyLayer[] };

function pair(v: unknown, fallback: number): number {
  if (Array.isArray(v)) return Math.max(...(v as number[]));
  return typeof v === 'number' ? v : fallback;
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}

/** How one layer changes the reach of its (merged) input. */
function step(layer: AnyLayer, r: Reach, unknown: string[]): Reach {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  if (POINTWISE.has(cls)) return r;
  if (cls === 'PixelShuffle' || cls === 'UpSampling2D' || cls === 'DepthToSpace') {
    const s = pair(cfg.scale ?? cfg.size ?? cfg.blockSize, 2);
    // Bilinear upsampling reads one neighbour.
    const extra = cfg.interpolation === 'bilinear' ? 1 / r.factor : 0;
    return { ...r, radius: r.radius + extra, factor: r.factor * s };
  }
  if (cls === 'PixelUnshuffle') {
    // A u×u block per output pixel, like a u×u conv with stride u; tiles must start on block boundaries.
    const u = pair(cfg.factor, 2);
    return { radius: r.radius + (u - 1) / r.factor, factor: r.factor / u, align: lcm(r.align, Math.round(u / r.factor) || 1) };
  }
  if (cls === 'AddUpsampledInput') {
    // Merge of [residual, input]; the input branch is read through nearest (0) or bilinear (1 pixel).
    return { ...r, radius: Math.max(r.radius, cfg.interpolation === 'bilinear' ? 1 : 0) };
  }
  if (cls === 'PadToMultiple') return { ...r, align: lcm(r.align, pair(cfg.multiple, 1)) };
  if (cls === 'ChannelShift') return { ...r, radius: r.radius + 1 / r.factor };
  if (cls === 'StripedWindowAttention') {
    // A token sees its whole window (cyclic shifts also join the image's opposite borders, which no finite radius
    // covers: tiles of such a model differ slightly from a whole-image run at those borders).
    const windows = (cfg.windows as [number, number][] | undefined) ?? [];
    return { ...r, radius: r.radius + Math.max(0, ...windows.flat()) / r.factor };
  }
  if (cls === 'Conv2DTranspose') {
    const k = pair(cfg.kernelSize, 3);
    const s = pair(cfg.strides, 1);
    const factor = r.factor * s;
    return { ...r, radius: r.radius + Math.ceil((k - 1) / 2) / factor + 1 / r.factor, factor };
  }
  if (cfg.kernelSize !== undefined || cfg.poolSize !== undefined) {
    // Conv2D, DepthwiseConv2D, SeparableConv2D, LocallyConnected2D, pooling.
    const k = pair(cfg.kernelSize ?? cfg.poolSize, 1);
    const d = pair(cfg.dilationRate, 1);
    const s = pair(cfg.strides, cfg.poolSize !== undefined ? k : 1);
    const radius = r.radius + (d * (k - 1)) / 2 / r.factor + (s > 1 ? (s - 1) / r.factor : 0);
    const factor = r.factor / s;
    const align = s > 1 ? lcm(r.align, Math.round(s / r.factor) || 1) : r.align;
    return { radius, factor, align };
  }
  if (cls === 'ZeroPadding2D' || cls === 'Cropping2D' || cls === 'Flatten' || cls === 'Reshape') {
    unknown.push(cls);
    return { ...r, radius: r.radius + UNKNOWN_LAYER_RADIUS / r.factor };
  }
  if (Array.isArray(layer.layers)) {
    // A nested model used as a layer.
    const inner = walk(layer as unknown as tfl.LayersModel, unknown);
    return { radius: r.radius + inner.radius / r.factor, factor: r.factor * inner.factor, align: lcm(r.align, inner.align) };
  }
  unknown.push(cls);
  return { ...r, radius: r.radius + UNKNOWN_LAYER_RADIUS / r.factor };
}

function walk(model: tfl.LayersModel, unknown: string[]): Reach {
  const reach = new Map<AnyLayer, Reach>();
  let last: Reach = { radius: 0, factor: 1, align: 1 };
  for (const layer of model.layers as AnyLayer[]) {
    const inbound = layer.inboundNodes?.[0]?.inboundLayers ?? [];
    const ins = inbound.map((l) => reach.get(l)).filter((x): x is Reach => x !== undefined);
    const merged: Reach = ins.length
      ? {
          radius: Math.max(...ins.map((x) => x.radius)),
          factor: ins[0].factor,
          align: ins.reduce((a, x) => lcm(a, x.align), 1),
        }
      : { radius: 0, factor: 1, align: 1 };
    last = step(layer, merged, unknown);
    reach.set(layer, last);
  }
  const outLayer = (model.outputLayers?.[0] ?? undefined) as AnyLayer | undefined;
  return (outLayer && reach.get(outLayer)) || last;
}

/**
 * Computes an upper bound of a model's receptive field radius from its layer configurations (convolutions,
 * pooling, pixel shuffle, upsampling, the sharpen-kd custom layers, nested models). Unknown layer classes are
 * listed in `unknownLayers` and assumed to reach {@link UNKNOWN_LAYER_RADIUS} pixels.
 *
 * @example
 * ```ts
 * const { radius } = receptiveField(buildStudent({ arch: 'espcn', scale: 4 })); // 4 (5x5 + 3x3 + 3x3)
 * ```
 */
export function receptiveField(model: tfl.LayersModel): ReceptiveField {
  const unknownLayers: string[] = [];
  const r = walk(model, unknownLayers);
  return { radius: r.radius, align: r.align, unknownLayers: [...new Set(unknownLayers)] };
}
