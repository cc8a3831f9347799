/**
 * Validation with the literature's protocol: HR mod-cropped to the scale, LR made by MATLAB bicubic (uint8),
 * the model's output clamped and rounded to 8 bits, then Y-channel PSNR/SSIM with `crop = scale` border pixels
 * removed. For scale 1 the LR is, by default, the blind ×1 protocol's input (`data/x1-protocol.ts`, the default of
 * `sharpen-kd eval --scale 1`: a random blur / noise / JPEG per image from the seed and the image's name); another
 * degradation can be given (e.g. {@link EVAL_X1_DEGRADATION}, the gaussian protocol), drawn with a per-image seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../core/rng';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../core/task';
import { InputError } from '../errors';
import { listImageFiles } from '../io/image-files';
import { readImageAsStored } from '../io/node-image';
import { toFloatRgb, type RawImage } from '../io/raw-image';
import { bicubicInput, meanScores, protocolReference, scoreImage } from '../metrics/protocol';
import { degradeImage, resolveDegradation, sampleDegradation, type DegradationOptions } from '../data/degrade';
import { rgbFromRaw } from '../data/pixels';
import { degradeX1 } from '../data/x1-protocol';
import type { Scale } from '../data/types';

/**
 * One validation image: LR input (float RGB) and the reference it is scored against (the protocol's target, see
 * `metrics/protocol.ts`: 8-bit, mod-cropped; a gray HR image stays gray).
 *
 * @example
 * ```ts
 * const first: ValidationImage = (await loadValidationSet('../shared/data/Set5', 2)).images[0];
 * ```
 */
export interface ValidationImage {
  name: string;
  lr: Float32Array;
  lrWidth: number;
  lrHeight: number;
  hr: RawImage;
}

/**
 * A loaded validation set.
 *
 * @example
 * ```ts
 * const set = await loadValidationSet('../shared/data/Set5/HR', 2);
 * ```
 */
export interface ValidationSet {
  scale: Scale;
  images: ValidationImage[];
}

/**
 * Options of {@link loadValidationSet}.
 *
 * @example
 * ```ts
 * const o: ValidationOptions = { maxImages: 5, degradation: { noise: false } };
 * ```
 */
export interface ValidationOptions {
  /** Use only the first N images (sorted by name). */
  maxImages?: number;
  /** Scale 1: the degradation to undo (default: the blind ×1 protocol, as `sharpen-kd eval --scale 1`). */
  degradation?: DegradationOptions;
  /** Scale 1: seed of the per-image degradations (default: the blind protocol's `BLIND_X1_SEED`; 0 with `degradation`). */
  seed?: number;
}

/**
 * The `gaussian` ×1 protocol as degradation options: Gaussian blur σ = 1, nothing else (`sharpen-kd eval --scale 1
 * --protocol gaussian`). Without options, scale-1 validation uses the blind protocol instead.
 *
 * @example
 * ```ts
 * const set = await loadValidationSet('../shared/data/Set5', 1, { degradation: EVAL_X1_DEGRADATION });
 * ```
 */
export const EVAL_X1_DEGRADATION: DegradationOptions = { blur: { prob: 1, range: [1, 1] }, motionBlur: false, noise: false, jpeg: false };

/**
 * Loads a folder of HR images (or a set folder with `HR/`) as a validation set for `scale`.
 *
 * @example
 * ```ts
 * const set5 = await loadValidationSet('../shared/data/Set5', 4);
 * ```
 */
export async function loadValidationSet(dir: string, scale: Scale, opts: ValidationOptions = {}): Promise<ValidationSet> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const hrDir = (await fs.stat(path.join(dir, 'HR')).then((s) => s.isDirectory()).catch(() => false)) ? path.join(dir, 'HR') : dir;
  let files = await listImageFiles(hrDir);
  if (opts.maxImages !== undefined) files = files.slice(0, opts.maxImages);
  const cfg = resolveDegradation(scale, opts.degradation);
  const images: ValidationImage[] = [];
  for (const [i, file] of files.entries()) {
    const { rgb: hr, target } = protocolReference(await readImageAsStored(file), scale);
    if (hr.width < 12 * scale || hr.height < 12 * scale) throw new InputError(`validation image is too small (${hr.width}x${hr.height}) for scale ${scale}`, { file });
    let lr: Float32Array;
    let lrWidth = hr.width / scale;
    let lrHeight = hr.height / scale;
    if (scale > 1) {
      const small = bicubicInput(hr, scale);
      lr = toFloatRgb(small);
      lrWidth = small.width;
      lrHeight = small.height;
    } else if (!opts.degradation) {
      lr = toFloatRgb((await degradeX1(hr, path.basename(file, path.extname(file)), { protocol: 'blind', seed: opts.seed })).lr);
    } else {
      const params = sampleDegradation(new Rng(((opts.seed ?? 0) + 7919 * (i + 1)) >>> 0), cfg);
      lr = (await degradeImage(rgbFromRaw(hr), cfg, params)).data;
    }
    images.push({ name: path.basename(file), lr, lrWidth, lrHeight, hr: target });
  }
  return { scale, images };
}

/**
 * Validation scores: means over the set of Y-PSNR (dB) and Y-SSIM, plus each image's.
 *
 * @example
 * ```ts
 * const { psnr, ssim } = await evaluateModel(student, set5);
 * ```
 */
export interface ValidationResult {
  psnr: number;
  ssim: number;
  images: { name: string; psnr: number; ssim: number }[];
}

/**
 * Runs a model (or any `lr -> sr` function) on every image of a set and scores it (literature protocol,
 * `metrics/protocol.ts`).
 *
 * @example
 * ```ts
 * const r = await evaluateModel(student, await loadValidationSet('../shared/data/Set5', 2));
 * console.log(r.psnr.toFixed(2), r.ssim.toFixed(4));
 * ```
 */
export async function evaluateModel(
  model: tfl.LayersModel | ((lr: tf.Tensor4D) => tf.Tensor4D),
  set: ValidationSet,
  opts: TaskOptions = {},
): Promise<ValidationResult> {
  const run = typeof model === 'function' ? model : (x: tf.Tensor4D) => {
    const y = model.predict(x) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(y) ? y[0] : y) as tf.Tensor4D;
  };
  const images: ValidationResult['images'] = [];
  for (const [i, img] of set.images.entries()) {
    throwIfAborted(opts.signal);
    const sr = tf.tidy(() => {
      const x = tf.tensor4d(img.lr, [1, img.lrHeight, img.lrWidth, 3]);
      return tf.clipByValue(tf.squeeze(run(x), [0]), 0, 1) as tf.Tensor3D;
    });
    try {
      if (sr.shape[0] !== img.hr.height || sr.shape[1] !== img.hr.width) {
        throw new InputError(`model output is ${sr.shape[1]}x${sr.shape[0]} but the reference is ${img.hr.width}x${img.hr.height}: is the model's scale ${set.scale}?`, { file: img.name });
      }
      images.push({ name: img.name, ...(await scoreImage(sr, img.hr, set.scale)) });
    } finally {
      sr.dispose();
    }
    opts.onProgress?.({ stage: 'validate', done: i + 1, total: set.images.length });
    await yieldToEventLoop();
  }
  return { ...meanScores(images), images };
}
