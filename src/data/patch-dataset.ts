/**
 * The patch sampler behind every dataset adapter.
 *
 * Batch `b` is drawn from its own generator `Rng(hash(seed, b))`: for each patch an image (uniformly), a position,
 * one of the 8 flips/rotations and the degradation parameters. The stream position is therefore just `{ seed, batch }`,
 * which makes resuming exact and lets the next batch be prepared (images decoded by sharp off the main thread) while
 * the current training step runs. Decoded images live in a bounded LRU; patches are cropped and downscaled in plain JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, InputError } from '../errors';
import { fromFloatRgb, type RawImage } from '../io/raw-image';
import { Rng } from '../core/rng';
import { wienerDeconvolve } from '../classical/deconvolve';
import { degradePatch, describeDegradation, resolveDegradation, sampleDegradation, type DegradationOptions, type DegradationParams, type PlanCache } from './degrade';
import { LruCache } from './lru-cache';
import { cropReflect, dihedral, imageBytes } from './pixels';
import type { ImageEntry, ImageRef } from './sources';
import { bicubicInput, protocolReference } from '../metrics/protocol';
import { resizeBicubic } from '../metrics/resize-bicubic';
import type { DatasetState, PatchArrays, PatchBatch, PatchDataset, Scale } from './types';

/**
 * Options shared by every dataset adapter.
 *
 * @example
 * ```ts
 * const opts: PatchOptions = { scale: 4, patchSize: 24, batchSize: 16, seed: 1, augment: true };
 * ```
 */
export interface PatchOptions {
  /** Upscaling factor (1 = sharpening). */
  scale: Scale;
  /** Side of the LR patches (default `round(96 / scale)`, i.e. 96-pixel HR patches). */
  patchSize?: number;
  /** Patches per batch (default 16). */
  batchSize?: number;
  /** Seed of the stream (default 0). */
  seed?: number;
  /** Random flips and 90° rotations (default true). */
  augment?: boolean;
  /** How LR patches are made from HR ones when the data has no LR files. */
  degradation?: DegradationOptions;
  /** Memory budget of the decoded-image cache in bytes (default 1 GiB). */
  cacheBytes?: number;
  /** Prepare the next batch while the current one is used (default true). */
  prefetch?: boolean;
  /**
   * The images are inputs with no HR counterpart (your own low-resolution photos, screenshots, frames): LR patches
   * are cut from them as they are, and the batches carry no HR (`hr` is zeros, `unlabeled: true`). A teacher labels
   * them: `distill` with a teacher cache stores the teacher's predictions as the targets.
   */
  unlabeled?: boolean;
  /**
   * Unlabeled inputs only: shrink every image by this factor first (the evaluation protocol's MATLAB-style bicubic with
   * antialiasing, rounded to 8 bits), so that the teacher labels them at another scale. The training images shrunk by
   * 2, for instance, are inputs that look like the usual low-resolution ones but hold other content per pixel. Default
   * 1 (as they are).
   */
  downscale?: number;
  /**
   * Privileged information (scale 1 with a blur in the degradation): every batch also carries, in `teacher`, the
   * oracle's restoration of each LR patch, the Wiener deconvolution with that patch's own true kernel
   * (`wienerDeconvolve`, the ×1 benchmark's `wiener-oracle`). The student never sees the kernel; trained with an
   * output term (`train({ loss: { output: w } })`), it learns from what the kernel allows. Default: none.
   */
  privileged?: 'wiener-oracle';
  /**
   * Labelled images only: the versions of every HR image the patches are drawn from, as factors in [0.25, 1] (MATLAB-style
   * bicubic with antialiasing, on the image's own sample type). `[1, 0.8, 0.6]` draws from each image as it is and
   * shrunk to 80% and 60%: more HR content, sharper per pixel, for small training sets (FSRCNN augments T91 with the
   * scales 0.9 to 0.6). Each version is drawn as often as an image. Default `[1]`.
   */
  rescale?: number[];
}

/** An image shrunk by `factor` as the evaluation protocol makes its inputs (mod-crop, MATLAB bicubic, 8 bits). */
function downscaledRef(ref: ImageRef, factor: number): ImageRef {
  return {
    key: `${ref.key}@1/${factor}`,
    width: Math.floor(ref.width / factor),
    height: Math.floor(ref.height / factor),
    load: async () => {
      const img = await ref.load();
      const rgb8 = img.data instanceof Float32Array ? fromFloatRgb(img.data, img.width, img.height, 8) : (img as RawImage<Uint8Array>);
      return bicubicInput(protocolReference(rgb8, factor).rgb, factor) as RawImage<Uint8Array>;
    },
  };
}

/** An HR image resized by `factor` (< 1: shrunk) with MATLAB-style bicubic, in its own sample type (8-bit stays 8-bit). */
function rescaledRef(ref: ImageRef, factor: number): ImageRef {
  if (factor === 1) return ref;
  return {
    key: `${ref.key}@x${factor}`,
    width: Math.ceil(ref.width * factor),
    height: Math.ceil(ref.height * factor),
    load: async () => resizeBicubic(await ref.load(), factor),
  };
}

/** Checks `PatchOptions.rescale`: a non-empty list of distinct factors in [0.25, 1]. */
function rescaleFactors(rescale: number[] | undefined): number[] {
  if (rescale === undefined) return [1];
  if (!Array.isArray(rescale) || rescale.length === 0 || rescale.length > 16) throw new ConfigError('rescale must be a list of 1 to 16 factors, e.g. [1, 0.8, 0.6]');
  for (const f of rescale) {
    if (!(typeof f === 'number' && f >= 0.25 && f <= 1)) throw new ConfigError(`rescale factors must be numbers in [0.25, 1], got ${f}`);
  }
  if (new Set(rescale).size !== rescale.length) throw new ConfigError(`rescale factors must be distinct, got ${rescale.join(', ')}`);
  return rescale;
}

/**
 * The oracle's restoration of a degraded ×1 patch (float RGB in [0, 1], on 8-bit levels): {@link wienerDeconvolve}
 * with the patch's own blur, as the ×1 benchmark's `wiener-oracle` restores a test image; the patch itself when it
 * drew no blur.
 */
function oraclePatch(lr: Float32Array, side: number, params: DegradationParams): Float32Array {
  if (params.sigma <= 0 && !params.motion) return lr; // this patch drew no blur: nothing to undo
  const bytes = new Uint8Array(lr.length);
  for (let i = 0; i < lr.length; i++) bytes[i] = Math.round(lr[i] * 255);
  const out = wienerDeconvolve({ data: bytes, width: side, height: side, channels: 3, bits: 8 }, { sigma: params.sigma, motion: params.motion });
  return Float32Array.from(out.data as Uint8Array, (v) => v / 255);
}

/** Default LR patch side for a scale: 96-pixel HR patches. */
export function defaultPatchSize(scale: number): number {
  return Math.round(96 / scale);
}

function batchSeed(seed: number, batch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x85ebca6b) ^ Math.imul(batch + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Builds a {@link PatchDataset} from a list of image entries. Adapters (`imageFolderDataset`, `div2kDataset`,
 * `pairedFolderDataset`, `syntheticDataset`, `openDataset`) call this; use it directly to combine custom sources.
 *
 * @example
 * ```ts
 * const entries = [...(await folderEntries('a/HR')), ...(await folderEntries('b/HR'))];
 * const data = patchDataset(entries, { scale: 2, seed: 1 }, 'a+b');
 * ```
 */
export function patchDataset(entries: ImageEntry[], opts: PatchOptions, name = 'custom'): PatchDataset {
  const scale = opts.scale;
  const cfg = resolveDegradation(scale, opts.degradation);
  const p = opts.patchSize ?? defaultPatchSize(scale);
  const batchSize = opts.batchSize ?? 16;
  const seed = (opts.seed ?? 0) >>> 0;
  const augment = opts.augment ?? true;
  const prefetch = opts.prefetch ?? true;
  if (!(Number.isInteger(p) && p >= 4 && p <= 1024)) throw new ConfigError(`patchSize must be an integer in [4, 1024], got ${p}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 4096)) throw new ConfigError(`batchSize must be an integer in [1, 4096], got ${batchSize}`);
  const P = p * scale;
  const unlabeled = opts.unlabeled === true;
  if (unlabeled && entries.some((e) => e.lr)) throw new ConfigError('unlabeled data are single images (the inputs); paired LR/HR folders are labelled already');
  const privileged = opts.privileged;
  if (privileged !== undefined && privileged !== 'wiener-oracle') throw new ConfigError(`privileged must be 'wiener-oracle', got ${JSON.stringify(privileged)}`);
  if (privileged && (scale !== 1 || unlabeled || entries.some((e) => e.lr) || (!cfg.blur && !cfg.motionBlur))) {
    throw new ConfigError('privileged oracle targets need scale-1 data degraded with a blur (the kernel the oracle is given): not paired, unlabeled or unblurred data');
  }
  const shrink = opts.downscale ?? 1;
  if (!(Number.isInteger(shrink) && shrink >= 1 && shrink <= 8)) throw new ConfigError(`downscale must be an integer in [1, 8], got ${shrink}`);
  if (shrink > 1 && !unlabeled) throw new ConfigError('downscale applies to unlabeled inputs (a labelled image is shrunk by the scale already)');
  if (shrink > 1) entries = entries.map((e) => ({ hr: downscaledRef(e.hr, shrink) }));
  const rescale = rescaleFactors(opts.rescale);
  const rescaled = rescale.length > 1 || rescale[0] !== 1;
  if (rescaled && (unlabeled || entries.some((e) => e.lr))) {
    throw new ConfigError('rescale applies to HR images whose LR is made on the fly: not to unlabeled inputs (use downscale) or paired LR/HR folders');
  }
  if (rescaled) entries = rescale.flatMap((f) => entries.map((e) => ({ hr: rescaledRef(e.hr, f) })));
  // The input resolution of an image: 1/scale of the HR one, or the image itself when it is an unlabeled input.
  const inputSide = (n: number) => (unlabeled ? n : Math.floor(n / scale));
  // An image is usable when it holds a whole LR patch (and, when labelled, the whole HR patch above it).
  const usable = entries.filter((e) => {
    const lrW = inputSide(e.hr.width);
    const lrH = inputSide(e.hr.height);
    return lrW >= p && lrH >= p && (!e.lr || (e.lr.width >= p && e.lr.height >= p));
  });
  if (entries.length === 0) throw new InputError(`dataset "${name}" has no images`);
  if (usable.length === 0) {
    throw new InputError(`all ${entries.length} images of "${name}" are smaller than the HR patch (${P}x${P} px); use a smaller --patch`);
  }
  const cache = new LruCache<RawImage<Uint8Array | Float32Array>>(opts.cacheBytes ?? 1 << 30, imageBytes);
  const plans: PlanCache = new Map();
  const kind = unlabeled ? `unlabeled${shrink > 1 ? `/${shrink}` : ''}` : describeDegradation(cfg);
  const description = `${name} n=${usable.length} p=${p} ${kind} aug=${augment}${rescaled ? ` rescale=${rescale.join(',')}` : ''}${privileged ? ` privileged=${privileged}` : ''}`;
  let batch = 0;
  let pending: { batch: number; promise: Promise<PatchArrays> } | undefined;

  async function makeBatch(b: number): Promise<PatchArrays> {
    const rng = new Rng(batchSeed(seed, b));
    const draws = Array.from({ length: batchSize }, () => ({
      entry: usable[rng.int(usable.length)],
      u: rng.next(),
      v: rng.next(),
      t: augment ? rng.int(8) : 0,
      params: sampleDegradation(rng, cfg),
    }));
    const lr = new Float32Array(batchSize * p * p * 3);
    const hr = new Float32Array(batchSize * P * P * 3);
    const teacher = privileged ? new Float32Array(batchSize * P * P * 3) : undefined;
    await Promise.all(
      draws.map(async (d, i) => {
        const hrImg = await cache.get(d.entry.hr.key, () => d.entry.hr.load());
        const lrImg = d.entry.lr ? await cache.get(d.entry.lr.key, () => d.entry.lr!.load()) : undefined;
        let lrW = inputSide(hrImg.width);
        let lrH = inputSide(hrImg.height);
        if (lrImg) {
          lrW = Math.min(lrW, lrImg.width);
          lrH = Math.min(lrH, lrImg.height);
        }
        if (lrW < p || lrH < p) throw new InputError(`image is smaller than its header said (${hrImg.width}x${hrImg.height})`, { file: d.entry.hr.key });
        const x = Math.floor(d.u * (lrW - p + 1));
        const y = Math.floor(d.v * (lrH - p + 1));
        let pair: { lr: Float32Array; hr: Float32Array };
        if (unlabeled) {
          pair = { lr: cropReflect(hrImg, x, y, p, p), hr: hr.subarray(i * P * P * 3, (i + 1) * P * P * 3) };
        } else if (lrImg) {
          pair = { lr: cropReflect(lrImg, x, y, p, p), hr: cropReflect(hrImg, x * scale, y * scale, P, P) };
        } else {
          pair = await degradePatch(hrImg, x, y, p, cfg, d.params, plans);
        }
        const oracle = teacher ? oraclePatch(pair.lr, p, d.params) : undefined;
        if (d.t !== 0) {
          lr.set(dihedral(pair.lr, p, d.t), i * p * p * 3);
          if (!unlabeled) hr.set(dihedral(pair.hr, P, d.t), i * P * P * 3);
          if (oracle) teacher!.set(dihedral(oracle, P, d.t), i * P * P * 3);
        } else {
          lr.set(pair.lr, i * p * p * 3);
          if (!unlabeled) hr.set(pair.hr, i * P * P * 3);
          if (oracle) teacher!.set(oracle, i * P * P * 3);
        }
      }),
    );
    if (unlabeled) return { count: batchSize, lrSize: p, hrSize: P, lr, hr, unlabeled };
    return teacher ? { count: batchSize, lrSize: p, hrSize: P, lr, hr, teacher } : { count: batchSize, lrSize: p, hrSize: P, lr, hr };
  }

  function take(b: number): Promise<PatchArrays> {
    const promise = pending?.batch === b ? pending.promise : makeBatch(b);
    pending = undefined;
    if (prefetch) {
      const next = makeBatch(b + 1);
      next.catch(() => undefined); // surfaced when it is taken
      pending = { batch: b + 1, promise: next };
    }
    return promise;
  }

  const ds: PatchDataset = {
    scale,
    patchSize: p,
    batchSize,
    description,
    unlabeled,
    teacher: privileged,
    nextArrays: () => take(batch++),
    state: () => ({ seed, batch }),
    restore(s: DatasetState) {
      if (s.seed >>> 0 !== seed) throw new ConfigError(`cannot restore a dataset stream of seed ${s.seed} into one of seed ${seed}; use the same --seed`);
      batch = s.batch;
      pending = undefined;
    },
    dispose() {
      pending = undefined;
      cache.dispose();
    },
    async *[Symbol.asyncIterator](): AsyncIterator<PatchBatch> {
      for (;;) yield arraysToBatch(await ds.nextArrays());
    },
  };
  return ds;
}

/**
 * Wraps {@link PatchArrays} as tensors (the caller disposes them).
 *
 * @example
 * ```ts
 * const { lr, hr } = arraysToBatch(await data.nextArrays());
 * ```
 */
export function arraysToBatch(a: PatchArrays): PatchBatch {
  const out: PatchBatch = {
    lr: tf.tensor4d(a.lr, [a.count, a.lrSize, a.lrSize, 3]),
    hr: tf.tensor4d(a.hr, [a.count, a.hrSize, a.hrSize, 3]),
  };
  if (a.teacher) out.teacher = tf.tensor4d(a.teacher, [a.count, a.hrSize, a.hrSize, 3]);
  if (a.teacherFeatures) out.teacherFeatures = a.teacherFeatures.map((f) => tf.tensor4d(f.data, [a.count, ...f.shape]));
  return out;
}
