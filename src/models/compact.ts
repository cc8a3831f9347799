/**
 * Compact residual SR net in the manner of SRVGGNetCompact (Real-ESRGAN, Wang et al. 2021):
 * a plain VGG-style stack at low resolution with a pixel shuffle and a global residual over the
 * nearest-upsampled input, so the body only learns the high-frequency detail.
 *
 *   input ─ conv3×3 w ─ PReLU ─ N × [conv3×3 w ─ PReLU] ─ conv3×3 3r² ─ pixel shuffle ─ + nearest(input) ─ output
 *
 * Real-ESRGAN uses w=64, N=16 (or 32); the defaults here are far smaller for real-time use in the browser.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AddUpsampledInput } from './layers/add-upsampled-input';
import { PixelShuffle } from './layers/pixel-shuffle';
import { conv, Inits, rgbInput, type Sym } from './blocks';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import type { Scale } from './metadata';

/** Resolved compact-net options. */
export interface CompactConfig {
  scale: Scale;
  /** Feature channels w. */
  width: number;
  /** Number of body convolutions N after the first one. */
  depth: number;
  residualInterpolation: ResidualInterpolation;
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
  const input = rgbInput();

  // First conv + body, all 3×3 with PReLU at LR resolution.
  let x: Sym = conv(input, c.width, { name: 'body0', kernel: 3, activation: 'prelu', init: init.he() });
  for (let i = 1; i <= c.depth; i++) {
    x = conv(x, c.width, { name: `body${i}`, kernel: 3, activation: 'prelu', init: init.he() });
  }

  // Last conv to 3·r² channels, pixel shuffle, + nearest-upsampled input.
  x = conv(x, 3 * r * r, { name: 'subpixel_conv', kernel: 3, init: init.scaled(0.1) });
  if (r > 1) x = new PixelShuffle({ scale: r, name: 'pixel_shuffle' }).apply(x) as Sym;
  x = new AddUpsampledInput({ scale: r, interpolation: c.residualInterpolation, name: 'residual' }).apply([x, input]) as Sym;
  return tfl.model({ inputs: input, outputs: x, name: c.name });
}
