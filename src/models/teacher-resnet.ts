/**
 * Teacher: a ResNet-50 encoder (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016)
 * with a U-Net decoder (Ronneberger et al., MICCAI 2015) for super-resolution / sharpening.
 *
 *   input ─ pad to a multiple of 2^(stages-1)
 *         ─ stem: conv3×3 64 ─ act                                   (LR resolution, no 7×7/2 + max-pool:
 *         ─ stage 1: 3 × bottleneck(64 → 256)            ── skip 1    SR must keep full-resolution detail)
 *         ─ stage 2: 4 × bottleneck(128 → 512), stride 2 ── skip 2
 *         ─ stage 3: 6 × bottleneck(256 → 1024), stride 2 ── skip 3
 *         ─ stage 4: 3 × bottleneck(512 → 2048), stride 2
 *   decoder, per level from the deepest up: conv1×1 4c ─ pixel shuffle ×2 ─ concat skip ─ 2 × [conv3×3 c ─ act]
 *         ─ head: conv3×3 3s² ─ pixel shuffle ×s ─ + bilinear(input) ─ crop to [H·s, W·s]
 *
 * act: ReLU (ResNet's) or PReLU. The stem and decoder convs have no shortcut around them, so a ReLU level whose units
 * all die blocks the whole path to the head; PReLU cannot die.
 *
 * Bottleneck (ResNet v1.5, stride on the 3×3): conv1×1 m ─ [BN] ─ ReLU ─ conv3×3 m /stride ─ [BN] ─ ReLU ─
 * conv1×1 4m ─ [BN], + shortcut (identity, or conv1×1 /stride ─ [BN] when the shape changes), ReLU.
 *
 * Normalisation: none by default. Batch norm is the ResNet-50 standard for classification, but SR nets
 * (EDSR, RCAN, SwinIR) drop it: it normalises away the absolute intensity and contrast that SR must
 * reproduce, produces artifacts when train and test statistics differ (small patches vs. full images,
 * batch sizes of 1-16), and costs memory. Without BN the last conv of every residual branch starts near
 * zero (scaled initialisation, in the spirit of Fixup / SkipInit), so each block starts as an identity
 * and the deep net trains stably. `norm: 'batch'` restores the classic layout (BN after every conv,
 * zero-initialised last gamma).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AddUpsampledInput } from './layers/add-upsampled-input';
import { CropToScaledInput } from './layers/crop-to-scaled-input';
import { PadToMultiple } from './layers/pad-to-multiple';
import { PixelShuffle } from './layers/pixel-shuffle';
import { Inits, prelu, relu, rgbInput, type Sym } from './blocks';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import type { Scale } from './metadata';

/** Resolved teacher options. */
export interface ResnetUnetConfig {
  scale: Scale;
  /** Bottleneck blocks per stage (ResNet-50: [3, 4, 6, 3]). */
  depths: number[];
  /** Multiplies every channel count (1 = ResNet-50 widths 64..2048). */
  widthMultiplier: number;
  norm: 'none' | 'batch';
  residualInterpolation: ResidualInterpolation;
  /** Activation of the stem and decoder convs (the bottlenecks always use ReLU). */
  activation: 'relu' | 'prelu';
  seed?: number;
  name: string;
}

/** @internal Channel count after the width multiplier (at least 4). */
export function teacherWidth(c: number, m: number): number {
  return Math.max(4, Math.round(c * m));
}

/** @internal Default feature taps: every encoder stage and decoder level. */
export function resnetUnetTaps(stages: number): string[] {
  const enc = Array.from({ length: stages }, (_, i) => `enc${i + 1}`);
  const dec = Array.from({ length: stages - 1 }, (_, i) => `dec${stages - 1 - i}`);
  return [...enc, ...dec];
}

/** @internal Builds the teacher; see the file comment. */
export function resnetUnet(c: ResnetUnetConfig): tfl.LayersModel {
  const init = new Inits(c.seed);
  const w = (ch: number) => teacherWidth(ch, c.widthMultiplier);
  const bn = c.norm === 'batch';
  const stages = c.depths.length;
  const s = c.scale;

  const convBn = (x: Sym, filters: number, kernel: number, name: string, o: { strides?: number; act?: boolean; last?: boolean; prelu?: boolean } = {}): Sym => {
    let y = tfl.layers
      .conv2d({
        name, filters, kernelSize: kernel, strides: o.strides ?? 1, padding: 'same', useBias: !bn,
        kernelInitializer: o.last && !bn ? init.scaled(0.01) : init.he(),
      })
      .apply(x) as Sym;
    if (bn) y = tfl.layers.batchNormalization({ name: `${name}_bn`, axis: -1, gammaInitializer: o.last ? 'zeros' : 'ones' }).apply(y) as Sym;
    if (o.act === false) return y;
    return o.prelu ? prelu(y, `${name}_prelu`) : relu(y, `${name}_relu`);
  };
  const plain = c.activation === 'prelu';

  const bottleneck = (x: Sym, mid: number, out: number, stride: number, name: string): Sym => {
    let y = convBn(x, mid, 1, `${name}_conv1`);
    y = convBn(y, mid, 3, `${name}_conv2`, { strides: stride });
    y = convBn(y, out, 1, `${name}_conv3`, { act: false, last: true });
    const inCh = x.shape[3];
    const shortcut = stride !== 1 || inCh !== out ? convBn(x, out, 1, `${name}_proj`, { strides: stride, act: false }) : x;
    const sum = tfl.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as Sym;
    return relu(sum, `${name}_out`);
  };

  const input = rgbInput();
  const padded = new PadToMultiple({ multiple: 2 ** (stages - 1), name: 'pad' }).apply(input) as Sym;

  // Encoder: stem at LR resolution, then the ResNet-50 stages; stage i > 1 halves the resolution.
  let x = convBn(padded, w(64), 3, 'stem', { prelu: plain });
  const skips: Sym[] = [];
  for (let i = 0; i < stages; i++) {
    const mid = w(64 * 2 ** i);
    for (let b = 0; b < c.depths[i]; b++) {
      const stride = i > 0 && b === 0 ? 2 : 1;
      x = bottleneck(x, mid, 4 * mid, stride, `stage${i + 1}_block${b + 1}`);
    }
    x = tfl.layers.activation({ name: `enc${i + 1}`, activation: 'linear' }).apply(x) as Sym;
    skips.push(x);
  }

  // Decoder: from the deepest stage back up to LR resolution, with skip connections.
  for (let level = stages - 1; level >= 1; level--) {
    const ch = w(64 * 2 ** (level - 1));
    let up = tfl.layers.conv2d({ name: `up${level}_conv`, filters: 4 * ch, kernelSize: 1, padding: 'same', kernelInitializer: init.he() }).apply(x) as Sym;
    up = new PixelShuffle({ scale: 2, name: `up${level}_shuffle` }).apply(up) as Sym;
    const cat = tfl.layers.concatenate({ name: `dec${level}_concat`, axis: -1 }).apply([up, skips[level - 1]]) as Sym;
    x = convBn(cat, ch, 3, `dec${level}_conv1`, { prelu: plain });
    x = convBn(x, ch, 3, `dec${level}_conv2`, { prelu: plain });
    x = tfl.layers.activation({ name: `dec${level}`, activation: 'linear' }).apply(x) as Sym;
  }

  // Head: sub-pixel conv to the output scale, global residual over the bilinear-upsampled input, crop.
  let y = tfl.layers.conv2d({ name: 'head_conv', filters: 3 * s * s, kernelSize: 3, padding: 'same', kernelInitializer: init.scaled(0.1) }).apply(x) as Sym;
  if (s > 1) y = new PixelShuffle({ scale: s, name: 'head_shuffle' }).apply(y) as Sym;
  y = new AddUpsampledInput({ scale: s, interpolation: c.residualInterpolation, name: 'residual' }).apply([y, padded]) as Sym;
  y = new CropToScaledInput({ scale: s, name: 'crop' }).apply([y, input]) as Sym;
  return tfl.model({ inputs: input, outputs: y, name: c.name });
}
