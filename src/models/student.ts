/**
 * `buildStudent`: the tiny real-time networks that get distilled. Each architecture lives in its own file
 * (espcn.ts, fsrcnn.ts, compact.ts); this file validates options, applies defaults and stores metadata.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import type { Activation, PreluSlopes } from './blocks';
import { compact, compactTaps, type DetailKind } from './compact';
import { espcn, ESPCN_TAPS } from './espcn';
import { fsrcnn, FSRCNN_TAPS } from './fsrcnn';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import { checkPositiveInt, checkScale, setModelInfo, type Scale } from './metadata';
import './layers/index';

/**
 * Student architectures.
 *
 * @example
 * ```ts
 * const arch: StudentArch = 'espcn';
 * const model = buildStudent({ arch, scale: 2 });
 * ```
 */
export type StudentArch = 'espcn' | 'fsrcnn' | 'compact';

/**
 * Options of {@link buildStudent}. `width`/`depth` mean, per architecture:
 * - `espcn`: `width` = n1 (n2 = n1/2), or exact `widths: [n1, n2]`; depth is fixed (2 hidden layers).
 * - `fsrcnn`: `width` = d, `shrink` = s, `depth` = m.
 * - `compact`: `width` = feature channels, `depth` = number of body convolutions after the first.
 *
 * Widths (and FSRCNN's shrink) go up to 1024 and depths up to 128; beyond that `buildStudent` throws a ConfigError
 * rather than attempt the allocation.
 *
 * @example
 * ```ts
 * const opts: StudentOptions = { arch: 'compact', scale: 4, width: 24, depth: 4, seed: 1 };
 * ```
 */
export interface StudentOptions {
  /** Architecture (default `'compact'`). */
  arch?: StudentArch;
  /** Upscaling factor; 1 = sharpening at the same size (default 4). */
  scale?: Scale;
  width?: number;
  depth?: number;
  /** ESPCN only: exact hidden widths `[n1, n2]` (paper: [64, 32]). */
  widths?: [number, number];
  /** FSRCNN only: shrinking channels s (default 12). */
  shrink?: number;
  /** ESPCN only: hidden activation (default `'tanh'`, as in the paper). */
  activation?: Activation;
  /** Global residual over the upsampled input. Default: on for `compact` (always) and at scale 1, off otherwise. */
  residual?: boolean;
  /** Interpolation of the residual input (default `'nearest'`; exact and cheap). */
  residualInterpolation?: ResidualInterpolation;
  /**
   * `compact` only: pixel-unshuffle factor of the input (default 1 = none). With 2 or 4 the body runs at 1/2 or 1/4
   * of the input resolution: about 4× or 16× fewer MACs, for real-time ×2 and ×1 (sharpening) models.
   */
  unshuffle?: 1 | 2 | 4;
  /**
   * `compact` only: train every 3×3 conv as an ECBSR-style re-parameterizable block (`RepConv2D`: 3×3, 1×1,
   * expand → 3×3 and edge branches, merged into one kernel on the fly). {@link sharpen-kd/models!reparameterize | reparameterize} turns the trained
   * model into the plain compact net (same inference graph and cost); training saves models that way.
   */
  reparam?: boolean;
  /**
   * With `reparam`: channel multiplier of each block's expand → 3×3 branch, whose 1×1 conv widens the input to
   * `expand · C_out` channels before the 3×3 conv (default 2, as in ECBSR; SESR's collapsible linear blocks widen to 256
   * channels). Wider costs a little more per training step (the merge, not the convolution) and nothing at inference.
   */
  reparamExpand?: number;
  /**
   * `compact` only: what the last conv predicts, a correction per RGB channel (`'rgb'`, default) or one luma correction
   * added to all three channels (`'luma'`: the capacity goes where Y-PSNR and the eye look, and the last conv costs a
   * third; chroma comes from the interpolated input, so use `residualInterpolation: 'bilinear'` with it).
   */
  detail?: DetailKind;
  /**
   * `compact` only: slopes of its PReLUs, one per channel (`'channel'`, default) or one per layer (`'layer'`, a leaky
   * ReLU with a learned slope). A one-slope PReLU exports as ONNX `LeakyRelu`, which ONNX Runtime's CPU provider fuses
   * into the convolution before it: the 16×3 ×2 net ran 1.16–1.28× faster there than with per-channel slopes.
   */
  preluSlopes?: PreluSlopes;
  /**
   * `compact` only: image-wide channel gates after the PReLUs of the body's second half, squeeze-and-excitation style
   * (`GlobalGate`: y = x · 2σ(mean(x)·W + b)). They let a blind sharpener pool what it sees of the blur and noise over
   * the whole image, as classical blind methods do. Costs little arithmetic, but a tiled run gates each tile by itself.
   */
  globalGates?: boolean;
  /** Seed of the weight initialisers, for reproducible models. */
  seed?: number;
  /** Model name (default `${arch}_x${scale}`). */
  name?: string;
}

/** Largest width (channels) and depth (layers) `buildStudent` accepts: far beyond a student, short of a failed allocation. */
const MAX_WIDTH = 1024;
const MAX_DEPTH = 128;

/**
 * Default sizes per architecture. The x4 defaults stay under 40K parameters and keep every convolution at
 * low resolution (see `describeModel` for parameters and MACs). The compact default (21.4K params,
 * 1.22 GMAC for 320x180 -> 1280x720) uses 16 channels: a multiple of ONNX Runtime's NCHWc block on AVX-512
 * (widths like 24 run ~1.8x slower than their MACs suggest), and depth for a 17 px receptive field.
 *
 * @example
 * ```ts
 * STUDENT_DEFAULTS.compact; // { width: 16, depth: 6 }
 * ```
 */
export const STUDENT_DEFAULTS = {
  espcn: { widths: [64, 32] as [number, number], activation: 'tanh' as Activation },
  fsrcnn: { width: 56, shrink: 12, depth: 4 },
  compact: { width: 16, depth: 6 },
} as const;

/**
 * Builds a student network `[N, H, W, 3]` -> `[N, H*s, W*s, 3]` (float RGB in [0, 1]; H and W free).
 * The model carries metadata ({@link sharpen-kd/models!getModelInfo | getModelInfo}) with default feature taps ({@link sharpen-kd/models!featureTaps | featureTaps}).
 *
 * @throws ConfigError on an unknown architecture or an invalid option.
 * @example
 * ```ts
 * const student = buildStudent({ arch: 'espcn', scale: 4 });      // 37.2K params
 * const sharpener = buildStudent({ arch: 'compact', scale: 1 });  // residual sharpening net
 * const y = student.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor4D; // [1, 128, 128, 3]
 * ```
 */
export function buildStudent(opts: StudentOptions = {}): tfl.LayersModel {
  const arch = opts.arch ?? 'compact';
  const scale = checkScale(opts.scale ?? 4);
  const name = opts.name ?? `${arch}_x${scale}`;
  const residualInterpolation = opts.residualInterpolation ?? 'nearest';
  if (residualInterpolation !== 'nearest' && residualInterpolation !== 'bilinear') {
    throw new ConfigError(`residualInterpolation must be 'nearest' or 'bilinear', got ${String(residualInterpolation)}`);
  }
  if (opts.unshuffle !== undefined && opts.unshuffle !== 1 && arch !== 'compact') throw new ConfigError(`unshuffle is a compact-net option, not ${String(arch)}'s`);
  if (opts.detail !== undefined && opts.detail !== 'rgb' && arch !== 'compact') throw new ConfigError(`detail is a compact-net option, not ${String(arch)}'s`);
  if (opts.reparam && arch !== 'compact') throw new ConfigError(`reparam is a compact-net option, not ${String(arch)}'s`);
  if (opts.preluSlopes !== undefined && opts.preluSlopes !== 'channel' && arch !== 'compact') throw new ConfigError(`preluSlopes is a compact-net option, not ${String(arch)}'s`);
  if (opts.globalGates && arch !== 'compact') throw new ConfigError(`globalGates is a compact-net option, not ${String(arch)}'s`);
  const seed = opts.seed;
  let model: tfl.LayersModel;
  let taps: string[];
  let options: Record<string, unknown>;

  if (arch === 'espcn') {
    if (opts.depth !== undefined) throw new ConfigError('espcn has a fixed depth (2 hidden layers): set width or widths instead of depth, or use arch "compact"');
    const n1 = checkPositiveInt('widths[0]', opts.widths?.[0] ?? (opts.width !== undefined ? checkPositiveInt('width', opts.width, 2, MAX_WIDTH) : STUDENT_DEFAULTS.espcn.widths[0]), 1, MAX_WIDTH);
    const n2 = checkPositiveInt('widths[1]', opts.widths?.[1] ?? (opts.width !== undefined ? Math.max(1, Math.round(n1 / 2)) : STUDENT_DEFAULTS.espcn.widths[1]), 1, MAX_WIDTH);
    const activation = opts.activation ?? STUDENT_DEFAULTS.espcn.activation;
    if (!['relu', 'tanh', 'prelu', 'linear'].includes(activation)) throw new ConfigError(`activation must be relu, tanh, prelu or linear, got ${String(activation)}`);
    const widths: [number, number] = [checkPositiveInt('widths[0]', n1), checkPositiveInt('widths[1]', n2)];
    const residual = opts.residual ?? scale === 1;
    options = { widths, activation, residual: residual || scale === 1, residualInterpolation, seed };
    model = espcn({ scale, widths, activation, residual, residualInterpolation, seed, name });
    taps = ESPCN_TAPS;
  } else if (arch === 'fsrcnn') {
    const d = checkPositiveInt('width', opts.width ?? STUDENT_DEFAULTS.fsrcnn.width, 1, MAX_WIDTH);
    const s = checkPositiveInt('shrink', opts.shrink ?? STUDENT_DEFAULTS.fsrcnn.shrink, 1, MAX_WIDTH);
    const m = checkPositiveInt('depth', opts.depth ?? STUDENT_DEFAULTS.fsrcnn.depth, 1, MAX_DEPTH);
    const residual = opts.residual ?? scale === 1;
    options = { d, s, m, residual: residual || scale === 1, residualInterpolation, seed };
    model = fsrcnn({ scale, d, s, m, upKernel: 3, residual, residualInterpolation, seed, name });
    taps = FSRCNN_TAPS;
  } else if (arch === 'compact') {
    if (opts.residual === false) throw new ConfigError('the compact net always has its global residual; use arch "espcn" or "fsrcnn" for a net without one');
    const width = checkPositiveInt('width', opts.width ?? STUDENT_DEFAULTS.compact.width, 1, MAX_WIDTH);
    const depth = checkPositiveInt('depth', opts.depth ?? STUDENT_DEFAULTS.compact.depth, 0, MAX_DEPTH);
    const unshuffle = opts.unshuffle ?? 1;
    if (![1, 2, 4].includes(unshuffle)) throw new ConfigError(`unshuffle must be 1, 2 or 4, got ${String(unshuffle)}`);
    const reparam = opts.reparam ?? false;
    if (typeof reparam !== 'boolean') throw new ConfigError(`reparam must be a boolean, got ${String(reparam)}`);
    if (opts.reparamExpand !== undefined && !reparam) throw new ConfigError('reparamExpand (--reparam-expand) widens the re-parameterizable blocks: it needs reparam (--reparam)');
    const reparamExpand = opts.reparamExpand === undefined ? undefined : checkPositiveInt('reparamExpand', opts.reparamExpand, 1, 64);
    const detail = opts.detail ?? 'rgb';
    if (detail !== 'rgb' && detail !== 'luma') throw new ConfigError(`detail must be 'rgb' or 'luma', got ${String(detail)}`);
    const preluSlopes = opts.preluSlopes ?? 'channel';
    if (preluSlopes !== 'channel' && preluSlopes !== 'layer') throw new ConfigError(`preluSlopes must be 'channel' or 'layer', got ${String(preluSlopes)}`);
    const globalGates = opts.globalGates ?? false;
    if (typeof globalGates !== 'boolean') throw new ConfigError(`globalGates must be a boolean, got ${String(globalGates)}`);
    options = { width, depth, residual: true, residualInterpolation, ...(unshuffle > 1 ? { unshuffle } : {}), ...(reparam ? { reparam } : {}), ...(reparamExpand !== undefined ? { reparamExpand } : {}), ...(detail === 'luma' ? { detail } : {}), ...(preluSlopes === 'layer' ? { preluSlopes } : {}), ...(globalGates ? { globalGates } : {}), seed };
    model = compact({ scale, width, depth, residualInterpolation, unshuffle, reparam, reparamExpand, detail, preluSlopes, globalGates, seed, name });
    taps = compactTaps(depth);
  } else {
    throw new ConfigError(`unknown student arch "${String(arch)}": use espcn, fsrcnn or compact`);
  }
  setModelInfo(model, { arch, scale, role: 'student', taps, options });
  return model;
}
