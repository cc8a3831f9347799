/** `buildTeacher`: validates options, applies defaults and stores metadata for the ResNet-50 U-Net teacher. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import type { ResidualInterpolation } from './layers/add-upsampled-input';
import { checkScale, setModelInfo, type Scale } from './metadata';
import { resnetUnet, resnetUnetTaps } from './teacher-resnet';
import './layers/index';

/**
 * Options of {@link buildTeacher}.
 *
 * @example
 * ```ts
 * const tiny: TeacherOptions = { scale: 2, depths: [1, 1, 1], widthMultiplier: 1 / 16, seed: 3 };
 * ```
 */
export interface TeacherOptions {
  /** Upscaling factor; 1 = sharpening (default 4). */
  scale?: Scale;
  /** Bottleneck blocks per encoder stage (default ResNet-50's [3, 4, 6, 3]; 1 to 5 stages). */
  depths?: number[];
  /** Multiplies every channel count (default 1 = ResNet-50 widths; tests use 1/16). */
  widthMultiplier?: number;
  /** Normalisation after each conv (default `'none'`: better for SR, see teacher-resnet.ts). */
  norm?: 'none' | 'batch';
  /** Interpolation of the global residual (default `'bilinear'`). */
  residualInterpolation?: ResidualInterpolation;
  /**
   * Activation of the convolutions outside the residual blocks: the stem and the decoder (default `'relu'`,
   * ResNet's). `'prelu'` is recommended for new teachers: these convolutions have no shortcut around them, so a
   * ReLU level whose units all die passes nothing on and training stalls at the bilinear baseline (seen on the
   * ×2 teacher; see docs/results/runs.md). The bottlenecks keep ResNet-50's ReLUs either way.
   */
  activation?: 'relu' | 'prelu';
  /** Seed of the weight initialisers. */
  seed?: number;
  /** Model name (default `teacher_x${scale}`). */
  name?: string;
}

/**
 * Builds the ResNet-50 based encoder-decoder teacher, `[N, H, W, 3]` -> `[N, H*s, W*s, 3]` for any H, W
 * (the input is edge-padded to a multiple of 2^(stages-1) inside the model and the output cropped back).
 * Feature taps (see {@link sharpen-kd/models!featureTaps | featureTaps}): `enc1..encK` (encoder stages) and `dec1..dec(K-1)` (decoder levels;
 * `dec1` is at input resolution).
 *
 * @throws ConfigError on invalid options.
 * @example
 * ```ts
 * const teacher = buildTeacher({ scale: 4 });                                    // full ResNet-50 encoder
 * const small = buildTeacher({ scale: 4, depths: [2, 2, 2], widthMultiplier: 0.25 });
 * ```
 */
export function buildTeacher(opts: TeacherOptions = {}): tfl.LayersModel {
  const scale = checkScale(opts.scale ?? 4);
  const depths = opts.depths ?? [3, 4, 6, 3];
  if (!Array.isArray(depths) || depths.length < 1 || depths.length > 5 || depths.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ConfigError(`depths must be 1 to 5 positive integers (blocks per stage), got ${JSON.stringify(depths)}`);
  }
  const widthMultiplier = opts.widthMultiplier ?? 1;
  if (!(typeof widthMultiplier === 'number' && widthMultiplier > 0 && widthMultiplier <= 4)) {
    throw new ConfigError(`widthMultiplier must be in (0, 4], got ${String(widthMultiplier)}`);
  }
  const norm = opts.norm ?? 'none';
  if (norm !== 'none' && norm !== 'batch') throw new ConfigError(`norm must be 'none' or 'batch', got ${String(norm)}`);
  const residualInterpolation = opts.residualInterpolation ?? 'bilinear';
  if (residualInterpolation !== 'nearest' && residualInterpolation !== 'bilinear') {
    throw new ConfigError(`residualInterpolation must be 'nearest' or 'bilinear', got ${String(residualInterpolation)}`);
  }
  const activation = opts.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'prelu') throw new ConfigError(`activation must be 'relu' or 'prelu', got ${String(activation)}`);
  const name = opts.name ?? `teacher_x${scale}`;
  const model = resnetUnet({ scale, depths, widthMultiplier, norm, residualInterpolation, activation, seed: opts.seed, name });
  setModelInfo(model, {
    arch: 'resnet-unet',
    scale,
    role: 'teacher',
    taps: resnetUnetTaps(depths.length),
    options: { depths, widthMultiplier, norm, residualInterpolation, activation, seed: opts.seed },
  });
  return model;
}
