/**
 * Which files are images, and the images of a folder: the one list of extensions and the one folder lister that
 * the CLI, evaluation, training data and batches share. The extensions are what the Node decoder (sharp) reads;
 * BMP is not among them (sharp cannot decode it), so a `.bmp` file is skipped rather than failing later.
 */
import { InputError } from '../errors';

/**
 * File extensions (lower case, with the dot) treated as images when scanning folders.
 *
 * @example
 * ```ts
 * IMAGE_EXTENSIONS.includes('.webp'); // true
 * ```
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.jpe', '.webp', '.tif', '.tiff', '.gif', '.avif'];

/**
 * Whether a file name has an image extension (case-insensitive). Hidden files (`.name`) are not images.
 *
 * @example
 * ```ts
 * isImageFileName('IMG_0001.JPG'); // true
 * ```
 */
export function isImageFileName(name: string): boolean {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  if (base.startsWith('.')) return false;
  const dot = base.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(base.slice(dot).toLowerCase());
}

/**
 * The image files of a folder (not recursive, sorted by name, hidden files skipped), or `[input]` when `input` is
 * a file. Node only.
 *
 * @throws InputError naming `input` when it does not exist, cannot be read, or is a folder without images.
 * @example
 * ```ts
 * const files = await listImageFiles('../shared/data/Set5/HR'); // 5 paths
 * ```
 */
export async function listImageFiles(input: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let names: string[];
  try {
    if (!(await fs.stat(input)).isDirectory()) return [input];
    names = await fs.readdir(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file or folder' : `cannot read this file or folder (${code ?? (e as Error).message})`, { file: input, cause: e });
  }
  const files = names.filter(isImageFileName).sort();
  if (files.length === 0) throw new InputError(`folder has no images (looked for ${IMAGE_EXTENSIONS.join(' ')})`, { file: input });
  return files.map((n) => path.join(input, n));
}
