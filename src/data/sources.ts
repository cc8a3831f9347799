/**
 * Image sources: the lists of training images the patch sampler draws from. Each entry knows its size (read from
 * the file header, without decoding) and how to decode itself; paired entries also carry their LR file.
 */
import { InputError } from '../errors';
import { listImageFiles } from '../io/image-files';
import { loadSharp, readImage } from '../io/node-image';
import type { RawImage } from '../io/raw-image';
import { rgbFromRaw } from './pixels';

/**
 * One decodable image of a source.
 *
 * @example
 * ```ts
 * const ref: ImageRef = (await folderEntries('../shared/data/Set5/HR'))[0].hr;
 * const img = await ref.load();
 * ```
 */
export interface ImageRef {
  /** Unique cache key (the path for files). */
  key: string;
  width: number;
  height: number;
  /** Decodes the image as RGB (`channels: 3`): 8-bit samples, or float32 in [0, 1] for deeper images. */
  load(): Promise<RawImage<Uint8Array | Float32Array>>;
}

/**
 * A training image: its HR version and, for paired data, its LR version (otherwise the LR is made by the degradation).
 *
 * @example
 * ```ts
 * const entries = await folderEntries('../shared/data/T91/HR');
 * console.log(entries.length, entries[0].hr.width);
 * ```
 */
export interface ImageEntry {
  hr: ImageRef;
  lr?: ImageRef;
}

/** Reads an image's size from its header (EXIF rotation applied), without decoding its pixels. */
async function imageRef(file: string): Promise<ImageRef> {
  const sharp = await loadSharp();
  let width: number;
  let height: number;
  try {
    const m = await sharp(file).metadata();
    const swap = (m.orientation ?? 1) >= 5;
    width = (swap ? m.height : m.width) ?? 0;
    height = (swap ? m.width : m.height) ?? 0;
  } catch (e) {
    throw new InputError(`cannot read image (${(e as Error).message.split('\n')[0]}); remove or replace the file`, { file, cause: e });
  }
  if (!(width > 0 && height > 0)) throw new InputError('image has no size; remove or replace the file', { file });
  return { key: file, width, height, load: async () => rgbFromRaw(await readImage(file)) };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Entries for a folder of HR images (LR made on the fly).
 *
 * @example
 * ```ts
 * const entries = await folderEntries('../shared/data/BSDS200/HR');
 * ```
 */
export async function folderEntries(dir: string): Promise<ImageEntry[]> {
  const files = await listImageFiles(dir);
  const refs = await mapLimited(files, 8, imageRef);
  return refs.map((hr) => ({ hr }));
}

/** Strips LR/HR and scale suffixes from a file stem so that `0001x2.png` and `0001.png` match. */
function pairKey(file: string): string {
  const base = file.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
  return base.replace(/[_-]?(lr|hr)$/i, '').replace(/[_-]?x[1-4]$/i, '').replace(/[_-]?(lr|hr)$/i, '').toLowerCase();
}

/**
 * Entries for paired LR/HR folders. Files are matched by name (ignoring `x2`/`_LR`/`_HR` suffixes and extension).
 * Throws {@link InputError} when an HR image has no LR counterpart or sizes disagree with `scale`.
 *
 * @example
 * ```ts
 * const entries = await pairedEntries('data/LR', 'data/HR', 2);
 * ```
 */
export async function pairedEntries(lrDir: string, hrDir: string, scale: number): Promise<ImageEntry[]> {
  const [lrFiles, hrFiles] = await Promise.all([listImageFiles(lrDir), listImageFiles(hrDir)]);
  const lrByKey = new Map(lrFiles.map((f) => [pairKey(f), f]));
  const missing = hrFiles.filter((f) => !lrByKey.has(pairKey(f)));
  if (missing.length > 0) {
    throw new InputError(`${missing.length} HR image(s) have no LR counterpart in ${lrDir} (e.g. ${missing[0]}); LR files must share the HR file name, optionally with an x${scale} suffix`, {
      file: hrDir,
    });
  }
  const entries = await mapLimited(hrFiles, 8, async (f) => ({ hr: await imageRef(f), lr: await imageRef(lrByKey.get(pairKey(f))!) }));
  for (const e of entries) {
    const { hr, lr } = e as Required<ImageEntry>;
    if (Math.floor(hr.width / scale) !== lr.width || Math.floor(hr.height / scale) !== lr.height) {
      throw new InputError(`LR is ${lr.width}x${lr.height} but HR ${hr.key} is ${hr.width}x${hr.height}; expected the HR size divided by ${scale} (rounded down)`, {
        file: lr.key,
      });
    }
  }
  return entries;
}

/**
 * Entries for the DIV2K layout: `DIV2K_{train,valid}_HR/0001.png` with, when present,
 * `DIV2K_{train,valid}_LR_bicubic/X{s}/0001x{s}.png` (otherwise LR is made on the fly with MATLAB bicubic).
 *
 * @example
 * ```ts
 * const train = await div2kEntries('/data/DIV2K', 'train', 4);
 * ```
 */
export async function div2kEntries(root: string, split: 'train' | 'valid', scale: number): Promise<ImageEntry[]> {
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  const hrDir = path.join(root, `DIV2K_${split}_HR`);
  const lrDir = path.join(root, `DIV2K_${split}_LR_bicubic`, `X${scale}`);
  const hasLr = scale > 1 && (await fs.stat(lrDir).then((s) => s.isDirectory()).catch(() => false));
  return hasLr ? pairedEntries(lrDir, hrDir, scale) : folderEntries(hrDir);
}

/**
 * Finds the images under a path, recognising the layouts sharpen-kd supports:
 * a DIV2K root (`DIV2K_train_HR/`), a set folder with `HR/` and `LR/` (paired) or `HR/` only, or a plain folder of images.
 *
 * @example
 * ```ts
 * const entries = await detectEntries('../shared/data/T91', 2); // uses T91/HR
 * ```
 */
export async function detectEntries(dir: string, scale: number): Promise<ImageEntry[]> {
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  const isDir = (p: string) => fs.stat(p).then((s) => s.isDirectory()).catch(() => false);
  if (!(await isDir(dir))) throw new InputError('data folder does not exist; check --data', { file: dir });
  if (await isDir(path.join(dir, 'DIV2K_train_HR'))) return div2kEntries(dir, 'train', scale);
  const hr = path.join(dir, 'HR');
  if (await isDir(hr)) {
    for (const lr of [path.join(dir, `LR_bicubic`, `X${scale}`), path.join(dir, `LR`, `X${scale}`), path.join(dir, `LR_x${scale}`), path.join(dir, 'LR')]) {
      if (scale > 1 && (await isDir(lr))) return pairedEntries(lr, hr, scale);
    }
    return folderEntries(hr);
  }
  return folderEntries(dir);
}
