/**
 * FSRCNN — "Accelerating the Super-Resolution Convolutional Neural Network" (Dong, Loy, Tang, ECCV 2016).
 *
 *   input ─ conv5×5 d (feature extraction) ─ PReLU
 *         ─ conv1×1 s (shrinking) ─ PReLU
 *         ─ m × [conv3×3 s ─ PReLU] (mapping)
 *         ─ conv1×1 d (expanding) ─ PReLU
 *         ─ upsampling ─ output
 *
 * The paper upsamples with a 9×9 transposed convolution. Here the last stage is a 3×3 convolution to 3·r²
 * channels followed by a pixel shuffle (a sub-pixel convolution is equivalent to a strided transposed
 * convolution, runs at LR resolution, and avoids Conv2DTranspose kernels that are slow on wasm).
 * Paper settings: FSRCNN (d, s, m) = (56, 12, 4); FSRCNN-s = (32, 5, 1).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AddUpsampledInput } from './layers/add-upsampled-input';
import { PixelShuffle } from './layers/pixel-shuffle';
import { conv, Inits, rgbInput, type Sym } from './blocks';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import type { Scale } from './metadata';

/** Resolved FSRCNN options. */
export interface FsrcnnConfig {
  scale: Scale;
  /** Feature dimension d. */
  d: number;
  /** Shrinking dimension s. */
  s: number;
  /** Number of mapping layers m. */
  m: number;
  /** Kernel of the last (sub-pixel) convolution (default 3). */
  upKernel: number;
  residual: boolean;
  residualInterpolation: ResidualInterpolation;
  seed?: number;
  name: string;
}

/** Feature taps: after shrinking, after the mapping layers, after expanding (all low resolution). */
export const FSRCNN_TAPS = ['shrink_prelu', 'map_out_prelu', 'expand_prelu'];

/** @internal Builds FSRCNN; see the file comment. */
export function fsrcnn(c: FsrcnnConfig): tfl.LayersModel {
  const init = new Inits(c.seed);
  const r = c.scale;
  const input = rgbInput();

  // Feature extraction.
  let x: Sym = conv(input, c.d, { name: 'extract', kernel: 5, activation: 'prelu', init: init.he() });
  // Shrinking.
  x = conv(x, c.s, { name: 'shrink', kernel: 1, activation: 'prelu', init: init.he() });
  // Non-linear mapping.
  for (let i = 1; i <= c.m; i++) {
    x = conv(x, c.s, { name: i === c.m ? 'map_out' : `map${i}`, kernel: 3, activation: 'prelu', init: init.he() });
  }
  // Expanding.
  x = conv(x, c.d, { name: 'expand', kernel: 1, activation: 'prelu', init: init.he() });

  // Upsampling: sub-pixel convolution (stands in for the 9×9 deconvolution).
  x = conv(x, 3 * r * r, { name: 'subpixel_conv', kernel: c.upKernel, init: init.glorot() });
  if (r > 1) x = new PixelShuffle({ scale: r, name: 'pixel_shuffle' }).apply(x) as Sym;

  if (c.residual || r === 1) {
    x = new AddUpsampledInput({ scale: r, interpolation: c.residualInterpolation, name: 'residual' }).apply([x, input]) as Sym;
  }
  return tfl.model({ inputs: input, outputs: x, name: c.name });
}
