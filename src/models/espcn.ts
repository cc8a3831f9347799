/**
 * ESPCN — "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional
 * Neural Network" (Shi et al., CVPR 2016).
 *
 * All convolutions run at low resolution; the last one predicts 3·r² channels that a pixel shuffle
 * rearranges into the r× larger image. Paper setting: f1=5, n1=64, f2=3, n2=32, f3=3, tanh.
 *
 *   input ─ conv5×5 n1 ─ tanh ─ conv3×3 n2 ─ tanh ─ conv3×3 3r² ─ pixel shuffle ─ (+ upsampled input) ─ output
 *
 * At scale 1 (sharpening) there is no pixel shuffle and the output is a residual over the input.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AddUpsampledInput } from './layers/add-upsampled-input';
import { PixelShuffle } from './layers/pixel-shuffle';
import { conv, Inits, rgbInput, type Activation, type Sym } from './blocks';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import type { Scale } from './metadata';

/** Resolved ESPCN options. */
export interface EspcnConfig {
  scale: Scale;
  /** Channels of the two hidden layers `[n1, n2]` (paper: [64, 32]). */
  widths: [number, number];
  /** Hidden activation (paper: tanh). */
  activation: Activation;
  /** Add the upsampled input to the output (global residual). Always on at scale 1. */
  residual: boolean;
  residualInterpolation: ResidualInterpolation;
  seed?: number;
  name: string;
}

/** Feature taps: the outputs of the two hidden layers (low resolution). */
export const ESPCN_TAPS = ['feat1', 'feat2'];

/** @internal Builds ESPCN; see the file comment. */
export function espcn(c: EspcnConfig): tfl.LayersModel {
  const init = new Inits(c.seed);
  const hiddenInit = () => (c.activation === 'tanh' ? init.glorot() : init.he());
  const r = c.scale;
  const input = rgbInput();

  // Feature extraction and non-linear mapping, both at LR resolution.
  let x: Sym = conv(input, c.widths[0], { name: 'feat1', kernel: 5, activation: c.activation, init: hiddenInit() });
  x = conv(x, c.widths[1], { name: 'feat2', kernel: 3, activation: c.activation, init: hiddenInit() });

  // Sub-pixel convolution: 3·r² channels -> pixel shuffle -> r× image.
  x = conv(x, 3 * r * r, { name: 'subpixel_conv', kernel: 3, init: init.glorot() });
  if (r > 1) x = new PixelShuffle({ scale: r, name: 'pixel_shuffle' }).apply(x) as Sym;

  // Optional global residual (always at scale 1: predict the sharpening detail).
  if (c.residual || r === 1) {
    x = new AddUpsampledInput({ scale: r, interpolation: c.residualInterpolation, name: 'residual' }).apply([x, input]) as Sym;
  }
  return tfl.model({ inputs: input, outputs: x, name: c.name });
}
