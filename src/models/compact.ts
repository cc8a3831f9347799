/**
 * Compact residual SR net in the manner of SRVGGNetCompact (Real-ESRGAN, Wang et al. 2021):
 * a plain VGG-style stack at low resolution with a pixel shuffle and a global residual over the
 * nearest-upsampled input, so the body only learns the high-frequency detail.
 *
 *   input ─ conv3×3 w ─ PReLU ─ N × [conv3×3 w ─ PReLU] ─ conv3×3 3r² ─ pixel shuffle ─ + nearest(input) ─ output
 *
 * Real-ESRGAN uses w=64, N=16 (or 32); the defaults here are far smaller for real-time use in the browser.
 *
 * Each PReLU learns one slope per channel, as in SRVGGNetCompact, or with `preluSlopes: 'layer'` one per layer (a leaky
 * ReLU with a learned slope), which ONNX Runtime's CPU provider fuses into the conv before it.
 *
 * With `reparam`, each 3×3 conv is trained as an ECBSR-style re-parameterizable block (layers/rep-conv.ts) and
 * merged back into a plain 3×3 conv for inference: same inference graph and cost, different optimization.
 *
 * With `detail: 'luma'` the last conv predicts one channel per output pixel, a luma correction added to all three
 * channels of the upsampled input (adding the same value to R, G and B changes Y and leaves Cb and Cr as they are).
 * The literature's small SR nets (SRCNN, FSRCNN, ESPCN, ECBSR) work on Y alone for the same reason: Y is what the eye
 * resolves and what PSNR/SSIM score, and the last conv costs 1/3 of the RGB one (at ×4: 16·9·16 instead of 16·9·48
 * MACs per input pixel). The chroma is the interpolated input's, so pair it with `residualInterpolation: 'bilinear'`
 * at ×4 (nearest chroma shows 4×4 colour blocks at sharp colour edges).
 *
 *   … ─ conv3×3 r² ─ pixel shuffle ─ + upsample(input) on every channel ─ output
 *
 * With `unshuffle` u > 1 (Real-ESRGAN's ×2 and ×1 models do this), the body runs at 1/u of the input resolution,
 * so it costs 1/u² as much per output pixel; the input is padded to a multiple of u first and the output cropped:
 *
 *   input ─ pad to a multiple of u ─ pixel unshuffle u (3u² ch) ─ [body as above] ─ conv3×3 3(r·u)²
 *         ─ pixel shuffle r·u ─ + nearest(padded input) ─ crop to [H·r, W·r]
 *
 * With `globalGates`, the second half of the body (body⌈N/2⌉ … bodyN) rescales its channels after each PReLU by gates
 * computed from that layer's mean over the whole input (layers/global-gate.ts): what a blind sharpener needs to know
 * about the image's blur and noise is pooled over all of it, not guessed from a 3×3 net's few dozen pixels.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AddUpsampledInput } from './layers/add-upsampled-input';
import { CropToScaledInput } from './layers/crop-to-scaled-input';
import { GlobalGate } from './layers/global-gate';
import { PadToMultiple } from './layers/pad-to-multiple';
import { PixelShuffle } from './layers/pixel-shuffle';
import { PixelUnshuffle } from './layers/pixel-unshuffle';
import { RepConv2D } from './layers/rep-conv';
import { conv, Inits, prelu, rgbInput, type ConvOpts, type PreluSlopes, type Sym } from './blocks';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import type { Scale } from './metadata';

/**
 * What the last conv of a compact net predicts: a correction per RGB channel (`'rgb'`, SRVGGNetCompact's choice),
 * or one luma correction added to all three channels (`'luma'`, the literature's Y-only nets' choice).
 *
 * @example
 * ```ts
 * const student = buildStudent({ scale: 4, detail: 'luma' satisfies DetailKind, residualInterpolation: 'bilinear' });
 * ```
 */
export type DetailKind = 'rgb' | 'luma';

/** Resolved compact-net options. */
export interface CompactConfig {
  scale: Scale;
  /** Feature channels w. */
  width: number;
  /** Number of body convolutions N after the first one. */
  depth: number;
  residualInterpolation: ResidualInterpolation;
  /** Pixel-unshuffle factor u of the input (1 = none): the body runs at 1/u of the input resolution. */
  unshuffle: number;
  /** What the last conv predicts (default `'rgb'`). */
  detail?: DetailKind;
  /** Train-time re-parameterized 3×3 convolutions ({@link RepConv2D}); `reparameterize` makes them plain. */
  reparam?: boolean;
  /** With `reparam`: channel multiplier of each block's expand → 3×3 branch (default 2, ECBSR's). */
  reparamExpand?: number;
  /** PReLU slopes, one per channel (default) or one per layer ({@link PreluSlopes}). */
  preluSlopes?: PreluSlopes;
  /** Image-wide channel gates ({@link GlobalGate}) after the PReLUs of the body's second half. */
  globalGates?: boolean;
  seed?: number;
  name: string;
}

/** @internal Feature taps of a compact net of the given depth: the body outputs (low resolution). */
export function compactTaps(depth: number): string[] {
  const taps = ['body0_prelu'];
  if (depth >= 2) taps.push(`body${Math.floor(depth / 2)}_prelu`);
  if (depth >= 1) taps.push(`body${depth}_prelu`);
  return [...new Set(taps)];
}

/** @internal Builds the compact net; see the file comment. */
export function compact(c: CompactConfig): tfl.LayersModel {
  const init = new Inits(c.seed);
  const r = c.scale;
  const u = c.unshuffle;
  const input = rgbInput();

  // Optional front end: the body sees u×u blocks of input pixels as 3u² channels.
  const padded = u > 1 ? (new PadToMultiple({ multiple: u, name: 'pad' }).apply(input) as Sym) : input;
  const low = u > 1 ? (new PixelUnshuffle({ factor: u, name: 'pixel_unshuffle' }).apply(padded) as Sym) : input;

  // Every conv is 3×3; with `reparam` it is trained as a RepConv2D (the same conv after `reparameterize`).
  const conv3 = (y: Sym, filters: number, o: ConvOpts): Sym => {
    if (!c.reparam) return conv(y, filters, o);
    const z = new RepConv2D({ filters, kernelInitializer: o.init, seed: c.seed, expand: c.reparamExpand, name: o.name }).apply(y) as Sym;
    return o.activation === 'prelu' ? prelu(z, `${o.name}_prelu`, o.preluSlopes) : z;
  };
  const slopes = c.preluSlopes ?? 'channel';

  // First conv + body, all 3×3 with PReLU at LR resolution (1/u of it with the front end).
  let x: Sym = conv3(low, c.width, { name: 'body0', kernel: 3, activation: 'prelu', preluSlopes: slopes, init: init.he() });
  for (let i = 1; i <= c.depth; i++) {
    x = conv3(x, c.width, { name: `body${i}`, kernel: 3, activation: 'prelu', preluSlopes: slopes, init: init.he() });
    if (c.globalGates && i >= Math.ceil(c.depth / 2)) x = new GlobalGate({ name: `body${i}_gate` }).apply(x) as Sym;
  }

  // Last conv to C·(r·u)² channels (C = 3, or 1 luma), pixel shuffle, + upsampled input (then undo the padding).
  const up = r * u;
  const channels = c.detail === 'luma' ? 1 : 3;
  x = conv3(x, channels * up * up, { name: 'subpixel_conv', kernel: 3, init: init.scaled(0.1) });
  if (up > 1) x = new PixelShuffle({ scale: up, name: 'pixel_shuffle' }).apply(x) as Sym;
  x = new AddUpsampledInput({ scale: r, interpolation: c.residualInterpolation, name: 'residual' }).apply([x, padded]) as Sym;
  if (u > 1) x = new CropToScaledInput({ scale: r, name: 'crop' }).apply([x, input]) as Sym;
  return tfl.model({ inputs: input, outputs: x, name: c.name });
}
