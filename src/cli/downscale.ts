import { InvalidArgumentError, type Command } from 'commander';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic-write';
import { encodeImage, loadSharp, readImage } from '../io/node-image';
import type { RawImage } from '../io/raw-image';
import { modCrop } from '../metrics/mod-crop';
import { resizeBicubic } from '../metrics/resize-bicubic';
import type { RegisterCommand } from './commands';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';

/** Extensions the CLI treats as images when given a folder. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff', '.gif', '.avif'];

/** Image files of a folder (sorted, not recursive), or the file itself. */
export async function listImageFiles(input: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let stat;
  try {
    stat = await fs.stat(input);
  } catch (e) {
    throw new InputError(`no such file or folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: input, cause: e });
  }
  if (!stat.isDirectory()) return [input];
  const names = (await fs.readdir(input)).filter((n) => !n.startsWith('.') && IMAGE_EXTENSIONS.includes(path.extname(n).toLowerCase()));
  if (names.length === 0) throw new InputError(`folder has no images (${IMAGE_EXTENSIONS.join(', ')})`, { file: input });
  return names.sort().map((n) => path.join(input, n));
}

/**
 * Reads an image keeping a gray file gray. The decoder may expand 1-channel files to RGB; the literature's
 * protocol scores a gray image (Set14's bridge.png) on its gray values, not on the Y of an RGB copy, so the
 * channel count as stored matters. Expanded channels are collapsed back only when they are all equal.
 */
export async function readImageAsStored(file: string): Promise<RawImage> {
  const img = await readImage(file);
  if (img.channels < 3) return img;
  const meta = await (await loadSharp())(file).metadata();
  if (meta.channels === undefined || meta.channels >= 3) return img;
  const n = img.width * img.height;
  const c = img.channels;
  const alpha = meta.channels === 2 && c === 4;
  const out = img.bits === 16 ? new Uint16Array(n * (alpha ? 2 : 1)) : new Uint8Array(n * (alpha ? 2 : 1));
  for (let i = 0; i < n; i++) {
    const v = img.data[i * c];
    if (img.data[i * c + 1] !== v || img.data[i * c + 2] !== v) return img;
    if (alpha) {
      out[2 * i] = v;
      out[2 * i + 1] = img.data[i * c + 3];
    } else out[i] = v;
  }
  return { ...img, data: out, channels: alpha ? 2 : 1 };
}

/** Writes a PNG atomically, keeping 1- and 2-channel 8-bit images gray (the generic encoder expands them to RGB). */
export async function writePngAsIs(file: string, img: RawImage): Promise<void> {
  if (img.channels > 2 || img.bits !== 8) return writeFileAtomic(file, await encodeImage(img, 'png'));
  const sharp = await loadSharp();
  const raw = { width: img.width, height: img.height, channels: img.channels };
  const png = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw }).toColourspace('b-w').png().toBuffer();
  await writeFileAtomic(file, new Uint8Array(png));
}

/** Parses a positive integer option (scale, crop). */
export function parsePositiveInt(name: string, min = 1): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

/**
 * Makes LR images like the super-resolution literature: HR mod-cropped to a multiple of `scale`, then
 * MATLAB-style bicubic downscaling (antialiased), rounded to the input's bit depth. Writes `<name>.png` files
 * atomically into `outDir` and returns their paths.
 */
export async function downscaleFiles(
  files: string[],
  outDir: string,
  opts: { scale: number; antialias?: boolean } & TaskOptions,
): Promise<string[]> {
  const path = await import('node:path');
  const written: string[] = [];
  for (const [i, file] of files.entries()) {
    throwIfAborted(opts.signal);
    const hr = modCrop(await readImageAsStored(file), opts.scale);
    const lr = resizeBicubic(hr, 1 / opts.scale, { antialias: opts.antialias ?? true });
    const out = path.join(outDir, `${path.basename(file, path.extname(file))}.png`);
    await writePngAsIs(out, lr);
    written.push(out);
    opts.onProgress?.({ stage: 'downscale', done: i + 1, total: files.length });
  }
  return written;
}

/** `sharpen-kd downscale <hr file|dir> --scale N -o <dir>` */
export const registerDownscale: RegisterCommand = (program: Command) => {
  program
    .command('downscale')
    .description('make LR images as in the SR literature: mod-crop to a multiple of the scale, then MATLAB bicubic downscale; writes PNGs')
    .argument('<input>', 'HR image file or folder of images')
    .requiredOption('-s, --scale <n>', 'downscale factor, e.g. 2, 3 or 4', parsePositiveInt('--scale', 2))
    .requiredOption('-o, --out <dir>', 'output folder (created if missing)')
    .option('--no-antialias', 'do not widen the kernel (MATLAB imresize(..., "Antialiasing", false))')
    .action(
      runCommand(async (input: string, opts: { scale: number; out: string; antialias: boolean }) => {
        const files = await listImageFiles(input);
        const bar = new ProgressBar('downscale');
        const written = await downscaleFiles(files, opts.out, {
          scale: opts.scale,
          antialias: opts.antialias,
          signal: signalFromProcess(),
          onProgress: (p) => bar.update(p),
        });
        bar.finish();
        process.stderr.write(`wrote ${written.length} LR image${written.length === 1 ? '' : 's'} (x${opts.scale}) to ${opts.out}\n`);
      }),
    );
};
