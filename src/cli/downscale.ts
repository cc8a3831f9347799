import type { Command } from 'commander';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { listImageFiles } from '../io/image-files';
import { readImageAsStored, writeImage } from '../io/node-image';
import { DEFAULT_MAX_PIXELS } from '../io/pixel-limits';
import type { RawImage } from '../io/raw-image';
import { modCrop } from '../metrics/mod-crop';
import { resizeBicubic } from '../metrics/resize-bicubic';
import type { RegisterCommand } from './run-command';
import { intOption } from './options';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';


/**
 * Makes LR images like the super-resolution literature: HR mod-cropped to a multiple of `scale`, then
 * MATLAB-style bicubic downscaling (antialiased), rounded to the input's bit depth. Writes `<name>.png` files
 * atomically into `outDir` and returns their paths.
 */
export async function downscaleFiles(
  files: string[],
  outDir: string,
  opts: { scale: number; antialias?: boolean; maxPixels?: number } & TaskOptions,
): Promise<string[]> {
  const path = await import('node:path');
  const written: string[] = [];
  for (const [i, file] of files.entries()) {
    throwIfAborted(opts.signal);
    const hr = modCrop(await readImageAsStored(file, opts), opts.scale);
    const lr = resizeBicubic(hr, 1 / opts.scale, { antialias: opts.antialias ?? true });
    const out = path.join(outDir, `${path.basename(file, path.extname(file))}.png`);
    await writeImage(out, lr, { format: 'png' });
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
    .requiredOption('-s, --scale <n>', 'downscale factor, e.g. 2, 3 or 4', intOption('--scale', 2))
    .requiredOption('-o, --out <dir>', 'output folder (created if missing)')
    .option('--no-antialias', 'do not widen the kernel (MATLAB imresize(..., "Antialiasing", false))')
    .option('--max-pixels <n>', 'refuse images with more pixels than this, from the header, before decoding', intOption('--max-pixels', 1), DEFAULT_MAX_PIXELS)
    .action(
      runCommand(async (input: string, opts: { scale: number; out: string; antialias: boolean; maxPixels: number }) => {
        const files = await listImageFiles(input);
        const bar = new ProgressBar('downscale');
        const written = await downscaleFiles(files, opts.out, {
          scale: opts.scale,
          antialias: opts.antialias,
          maxPixels: opts.maxPixels,
          signal: signalFromProcess(),
          onProgress: (p) => bar.update(p),
        });
        bar.finish();
        process.stderr.write(`wrote ${written.length} LR image${written.length === 1 ? '' : 's'} (x${opts.scale}) to ${opts.out}\n`);
      }),
    );
};
