/**
 * `growStudent`: Net2Net (Chen, Goodfellow & Shlens, ICLR 2016) for the compact student. A trained compact net is
 * turned into a wider and/or deeper one that computes the same function, so that training the larger net starts
 * from what the small one learned instead of from scratch.
 *
 *   Net2WiderNet   each new channel j of body conv i copies an existing channel g(j) (kernel column, bias, PReLU
 *                  slope); the next conv's input weights of channel c are split between c and its copies with
 *                  random shares that sum to 1, so the sum the next conv computes is unchanged
 *   Net2DeeperNet  each new body conv is an identity (centre tap = I, bias 0) followed by a PReLU with slope 1,
 *                  appended after the last body conv
 *
 *   RGB → luma     (`detail: 'luma'`) the last conv's output channels (sub-pixel k, colour c) are mixed into one per
 *                  sub-pixel with the BT.601 luma weights (0.299, 0.587, 0.114): adding that luma correction to all
 *                  three channels changes Y exactly as the three corrections did, so Y (and Y-PSNR) is unchanged and
 *                  only the chroma correction is dropped. Luma → RGB copies the correction into every colour (exact).
 *
 * Copies of a channel get identical inputs and proportional gradients, so `noise` adds a small Gaussian
 * perturbation to the copied kernels (relative to the layer's weight spread) to let them diverge; with
 * `noise: 0` the grown net matches the source to float rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../core/rng';
import { ConfigError, ModelError } from '../errors';
import { Y_WEIGHTS } from '../metrics/y-channel';
import { reparameterize } from './layers/rep-conv';
import { GlobalGate } from './layers/global-gate';
import { getModelInfo, type Scale } from './metadata';
import type { PreluSlopes } from './blocks';
import type { DetailKind } from './compact';
import { buildStudent } from './student';

/** BT.601 luma weights (metrics' Y weights) normalised to sum to 1: adding v to R, G and B adds v to this luma. */
const LUMA = Y_WEIGHTS.map((w) => w / (Y_WEIGHTS[0] + Y_WEIGHTS[1] + Y_WEIGHTS[2]));

/** The last conv re-targeted from one {@link DetailKind} to another; see the file comment. */
function convertDetail(c: Conv, from: DetailKind, to: DetailKind): Conv {
  if (from === to) return c;
  if (from === 'rgb') {
    const cout = c.cout / 3;
    const kernel = new Float32Array(9 * c.cin * cout);
    const bias = new Float32Array(cout);
    for (let k = 0; k < cout; k++) {
      for (let col = 0; col < 3; col++) {
        bias[k] += LUMA[col] * c.bias[k * 3 + col];
        for (let t = 0; t < 9 * c.cin; t++) kernel[t * cout + k] += LUMA[col] * c.kernel[t * c.cout + k * 3 + col];
      }
    }
    return { kernel, bias, cin: c.cin, cout };
  }
  const cout = c.cout * 3;
  const kernel = new Float32Array(9 * c.cin * cout);
  for (let t = 0; t < 9 * c.cin; t++) for (let o = 0; o < cout; o++) kernel[t * cout + o] = c.kernel[t * c.cout + Math.floor(o / 3)];
  return { kernel, bias: Float32Array.from({ length: cout }, (_, o) => c.bias[Math.floor(o / 3)]), cin: c.cin, cout };
}

/**
 * Options of {@link growStudent}.
 *
 * @example
 * ```ts
 * const opts: GrowOptions = { width: 32, depth: 8, noise: 0.01, seed: 1 };
 * ```
 */
export interface GrowOptions {
  /** Feature channels of the grown net (≥ the source's; default: the source's). */
  width?: number;
  /** Body convolutions of the grown net (≥ the source's; default: the source's). */
  depth?: number;
  /**
   * Standard deviation of the symmetry-breaking noise on copied kernels, relative to the standard deviation of
   * that layer's kernel (default 0.01; 0 = exactly the source's function).
   */
  noise?: number;
  /**
   * What the grown net's last conv predicts (default: the source's). `'luma'` from an RGB source keeps Y exactly and
   * drops the chroma correction; `'rgb'` from a luma source is exact.
   */
  detail?: DetailKind;
  /** Seed of the channel choice, the split shares and the noise (default 0). */
  seed?: number;
  /** Model name (default: the source's). */
  name?: string;
}

interface Conv {
  kernel: Float32Array; // [3, 3, cin, cout]
  bias: Float32Array;
  alpha?: Float32Array; // PReLU slopes [cout], or [1] for one per layer
  cin: number;
  cout: number;
}

function readConv(model: tfl.LayersModel, name: string): Conv {
  const conv = model.getLayer(name);
  const [kernel, bias] = conv.getWeights();
  if (!kernel || !bias || kernel.shape.length !== 4 || kernel.shape[0] !== 3 || kernel.shape[1] !== 3) {
    throw new ModelError(`layer "${name}" is not a 3×3 conv with bias`);
  }
  const out: Conv = { kernel: kernel.dataSync() as Float32Array, bias: bias.dataSync() as Float32Array, cin: kernel.shape[2], cout: kernel.shape[3] };
  const prelu = model.layers.find((l) => l.name === `${name}_prelu`);
  if (prelu) out.alpha = prelu.getWeights()[0].dataSync() as Float32Array;
  return out;
}

/** Output channel `j` of the widened layer copies channel `from[j]` of the source. */
function widenOutputs(c: Conv, from: number[], noise: number, rng: Rng): Conv {
  const cout = from.length;
  const kernel = new Float32Array(9 * c.cin * cout);
  let sq = 0;
  for (const v of c.kernel) sq += v * v;
  const sd = noise * Math.sqrt(sq / c.kernel.length);
  for (let t = 0; t < 9 * c.cin; t++) {
    for (let j = 0; j < cout; j++) {
      const copy = j >= c.cout;
      kernel[t * cout + j] = c.kernel[t * c.cout + from[j]] + (copy && sd > 0 ? sd * rng.normal() : 0);
    }
  }
  const bias = Float32Array.from(from, (k) => c.bias[k]);
  // Per-channel slopes are copied with their channels; one slope for the layer stays as it is.
  const alpha = c.alpha && c.alpha.length > 1 ? Float32Array.from(from, (k) => c.alpha![k]) : c.alpha;
  return { kernel, bias, alpha, cin: c.cin, cout };
}

/** Input channel `j` of the widened layer reads source channel `from[j]` with weight share `share[j]`. */
function widenInputs(c: Conv, from: number[], share: Float32Array): Conv {
  const cin = from.length;
  const kernel = new Float32Array(9 * cin * c.cout);
  for (let t = 0; t < 9; t++) {
    for (let j = 0; j < cin; j++) {
      for (let o = 0; o < c.cout; o++) kernel[(t * cin + j) * c.cout + o] = share[j] * c.kernel[(t * c.cin + from[j]) * c.cout + o];
    }
  }
  return { ...c, kernel, cin };
}

/** Which source channel each of `to` channels copies (the first `n` are the originals), and the split shares. */
function channelMap(n: number, to: number, rng: Rng): { from: number[]; share: Float32Array } {
  const from = Array.from({ length: to }, (_, j) => (j < n ? j : rng.int(n)));
  const raw = Float32Array.from(from, (_, j) => (j < n && from.indexOf(j, n) < 0 ? 1 : 0.5 + rng.next()));
  const sums = new Float32Array(n);
  from.forEach((k, j) => (sums[k] += raw[j]));
  return { from, share: raw.map((r, j) => r / sums[from[j]]) };
}

function identityConv(width: number, slopes: PreluSlopes): Conv {
  const kernel = new Float32Array(9 * width * width);
  for (let c = 0; c < width; c++) kernel[(4 * width + c) * width + c] = 1; // centre tap (1, 1)
  return { kernel, bias: new Float32Array(width), alpha: new Float32Array(slopes === 'layer' ? 1 : width).fill(1), cin: width, cout: width };
}

function writeConv(model: tfl.LayersModel, name: string, c: Conv): void {
  tf.tidy(() => {
    model.getLayer(name).setWeights([tf.tensor4d(c.kernel, [3, 3, c.cin, c.cout]), tf.tensor1d(c.bias)]);
    if (c.alpha) model.getLayer(`${name}_prelu`).setWeights([tf.tensor3d(c.alpha, [1, 1, c.alpha.length])]);
  });
}

/**
 * Grows a trained compact student into a wider and/or deeper compact student that computes the same function
 * (Net2Net; see the file comment), as the starting point of a longer training run; with `detail` it also converts an
 * RGB-detail net into a luma-detail one (same Y) or back. A re-parameterizable
 * (`reparam`) source is merged first; the grown net is a plain compact net. The source is not changed.
 *
 * @throws ConfigError when `width` / `depth` would shrink the net or `noise` is negative; ModelError when the
 *   source is not a compact student.
 * @example
 * ```ts
 * const small = await loadModel('models/x2');                      // compact 16×6
 * const big = await growStudent(small, { width: 32, depth: 8 });   // compact 32×8, same output (±noise)
 * const luma = await growStudent(small, { depth: 8, detail: 'luma' }); // 16×8 luma detail, same Y
 * ```
 */
export async function growStudent(source: tfl.LayersModel, opts: GrowOptions = {}): Promise<tfl.LayersModel> {
  const info = getModelInfo(source);
  if (info.arch !== 'compact' || info.role !== 'student') throw new ModelError(`growStudent needs a compact student, got a ${info.arch} ${info.role}`);
  const o = info.options;
  const plain = o.reparam ? await reparameterize(source) : source;
  try {
    const [w0, d0] = [o.width as number, o.depth as number];
    const width = opts.width ?? w0;
    const depth = opts.depth ?? d0;
    if (!Number.isInteger(width) || width < w0) throw new ConfigError(`width must be an integer ≥ the source's ${w0}, got ${String(width)}`);
    if (!Number.isInteger(depth) || depth < d0) throw new ConfigError(`depth must be an integer ≥ the source's ${d0}, got ${String(depth)}`);
    // Global gates are sized to the width and placed by the depth: a gated net is copied, not grown.
    const globalGates = o.globalGates === true;
    if (globalGates && (width !== w0 || depth !== d0)) throw new ModelError(`growStudent keeps a net with global gates at its size (${w0}×${d0}), got ${width}×${depth}`);
    const noise = opts.noise ?? 0.01;
    if (!(noise >= 0)) throw new ConfigError(`noise must be ≥ 0, got ${String(noise)}`);
    const rng = new Rng(opts.seed ?? 0);
    const sourceDetail = (o.detail as DetailKind | undefined) ?? 'rgb';
    const detail = opts.detail ?? sourceDetail; // buildStudent validates it
    const preluSlopes = (o.preluSlopes as PreluSlopes | undefined) ?? 'channel';

    const grown = buildStudent({
      arch: 'compact',
      scale: info.scale as Scale,
      width,
      depth,
      unshuffle: (o.unshuffle as 1 | 2 | 4 | undefined) ?? 1,
      residualInterpolation: o.residualInterpolation as 'nearest' | 'bilinear' | undefined,
      detail,
      preluSlopes,
      globalGates,
      seed: o.seed as number | undefined,
      name: opts.name ?? source.name,
    });
    // Widen body0..body{d0} in turn: each layer's outputs, then the next layer's inputs.
    let prev: { from: number[]; share: Float32Array } | undefined;
    for (let i = 0; i <= d0; i++) {
      let c = readConv(plain, `body${i}`);
      if (prev) c = widenInputs(c, prev.from, prev.share);
      prev = channelMap(w0, width, rng);
      writeConv(grown, `body${i}`, widenOutputs(c, prev.from, noise, rng));
    }
    for (let i = d0 + 1; i <= depth; i++) writeConv(grown, `body${i}`, identityConv(width, preluSlopes));
    for (const layer of plain.layers) if (layer instanceof GlobalGate) grown.getLayer(layer.name).setWeights(layer.getWeights());
    writeConv(grown, 'subpixel_conv', convertDetail(widenInputs(readConv(plain, 'subpixel_conv'), prev!.from, prev!.share), sourceDetail, detail));
    const meta = grown.getUserDefinedMetadata() as Record<string, { options: Record<string, unknown> }>;
    const grownFrom = { width: w0, depth: d0, ...(detail !== sourceDetail ? { detail: sourceDetail } : {}), ...(o.trainedWithReparam || o.reparam ? { trainedWithReparam: true } : {}) };
    grown.setUserDefinedMetadata({ ...meta, sharpenKd: { ...meta.sharpenKd, options: { ...meta.sharpenKd.options, grownFrom } } });
    return grown;
  } finally {
    if (plain !== source) plain.dispose();
  }
}
