/**
 * Dataset adapters: folders of HR images, the DIV2K layout, paired LR/HR folders, a seeded synthetic fallback, and
 * `openDataset` which recognises any of these from paths (what the CLI's `--data` uses). All return a
 * {@link PatchDataset}: an endless seeded stream of `{ lr, hr }` patch batches.
 */
import { ConfigError } from '../errors';
import { patchDataset, type PatchOptions } from './patch-dataset';
import { proceduralImage } from './procedural';
import { detectEntries, div2kEntries, folderEntries, pairedEntries, type ImageEntry } from './sources';
import type { PatchDataset } from './types';

/**
 * Random patches from one or more folders of HR images; LR patches are made on the fly by the degradation
 * (MATLAB bicubic by default). Several folders are pooled (each image equally likely).
 *
 * @example
 * ```ts
 * const data = await imageFolderDataset(['../shared/data/T91/HR', '../shared/data/BSDS200/HR'], { scale: 2, seed: 1 });
 * ```
 */
export async function imageFolderDataset(dirs: string | string[], opts: PatchOptions): Promise<PatchDataset> {
  const list = Array.isArray(dirs) ? dirs : [dirs];
  if (list.length === 0) throw new ConfigError('imageFolderDataset needs at least one folder');
  const entries = (await Promise.all(list.map(folderEntries))).flat();
  return patchDataset(entries, opts, list.join('+'));
}

/**
 * Random patches from a DIV2K root (`DIV2K_train_HR/`, `DIV2K_train_LR_bicubic/X{2,3,4}/`, and the `valid`
 * counterparts). Uses the LR files when they exist for the scale, otherwise makes LR on the fly.
 *
 * @example
 * ```ts
 * const data = await div2kDataset('/data/DIV2K', { scale: 4, patchSize: 48, seed: 1 });
 * ```
 */
export async function div2kDataset(root: string, opts: PatchOptions & { split?: 'train' | 'valid' }): Promise<PatchDataset> {
  const split = opts.split ?? 'train';
  return patchDataset(await div2kEntries(root, split, opts.scale), opts, `div2k-${split}:${root}`);
}

/**
 * Random aligned patches from paired folders of LR and HR images matched by file name
 * (`0001x2.png` ↔ `0001.png`). LR patches come from the files; the degradation is not applied.
 *
 * @example
 * ```ts
 * const data = await pairedFolderDataset({ lr: 'data/LR/X2', hr: 'data/HR' }, { scale: 2 });
 * ```
 */
export async function pairedFolderDataset(dirs: { lr: string; hr: string }, opts: PatchOptions): Promise<PatchDataset> {
  return patchDataset(await pairedEntries(dirs.lr, dirs.hr, opts.scale), opts, `paired:${dirs.lr}|${dirs.hr}`);
}

/**
 * Options of {@link syntheticDataset}.
 *
 * @example
 * ```ts
 * const opts: SyntheticOptions = { scale: 2, images: 32, imageSize: 192 };
 * ```
 */
export interface SyntheticOptions extends PatchOptions {
  /** Distinct procedural images to draw patches from (default 64). */
  images?: number;
  /** Side of each procedural image (default max(256, HR patch + margin)). */
  imageSize?: number;
}

/**
 * Seeded synthetic data for when no images are given: procedural edges, text-like strokes, textures and gradients
 * (see `proceduralImage`), degraded like real data. Same seed, same stream.
 *
 * @example
 * ```ts
 * const data = syntheticDataset({ scale: 2, patchSize: 16, batchSize: 4, seed: 3 });
 * ```
 */
export function syntheticDataset(opts: SyntheticOptions): PatchDataset {
  const count = opts.images ?? 64;
  const hrPatch = (opts.patchSize ?? Math.round(96 / opts.scale)) * opts.scale;
  const size = opts.imageSize ?? Math.max(256, hrPatch + 16);
  if (!(Number.isInteger(count) && count >= 1)) throw new ConfigError(`images must be a positive integer, got ${count}`);
  if (!(Number.isInteger(size) && size >= hrPatch)) throw new ConfigError(`imageSize (${size}) must be an integer at least the HR patch side (${hrPatch})`);
  const base = (opts.seed ?? 0) >>> 0;
  const entries: ImageEntry[] = Array.from({ length: count }, (_, i) => {
    const s = (Math.imul(base, 0x9e3779b1) + 0x6a09e667 + i) >>> 0;
    return { hr: { key: `synthetic:${s}:${size}`, width: size, height: size, load: async () => proceduralImage(s, size, size) } };
  });
  return patchDataset(entries, opts, `synthetic(${count}x${size})`);
}

/**
 * Opens one or more data paths, recognising each layout: a DIV2K root, a set folder with `HR/` (and `LR/` or
 * `LR_bicubic/X{s}/` for paired data), or a plain folder of images. With no path, returns {@link syntheticDataset}.
 *
 * @example
 * ```ts
 * const data = await openDataset(['../shared/data/T91', '../shared/data/BSDS200'], { scale: 4, seed: 1 });
 * ```
 */
export async function openDataset(paths: string[], opts: SyntheticOptions): Promise<PatchDataset> {
  if (paths.length === 0) return syntheticDataset(opts);
  const entries = (await Promise.all(paths.map((p) => detectEntries(p, opts.scale)))).flat();
  return patchDataset(entries, opts, paths.join('+'));
}
