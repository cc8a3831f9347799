import type { Command } from 'commander';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { InputError, ShapeError } from '../errors';
import { DEFAULT_MAX_PIXELS } from '../io/pixel-limits';
import { meanScores, protocolReference, scoreImage } from '../metrics/protocol';
import type { RegisterCommand } from './run-command';
import { listImageFiles } from '../io/image-files';
import { readImageAsStored } from '../io/node-image';
import { intOption } from './options';
import { runCommand, signalFromProcess } from './run-command';

/** Result of {@link scoreFolders}: the literature's mean Y-PSNR / Y-SSIM over a test set. */
export interface ScoreReport {
  n: number;
  scale: number;
  crop: number;
  yChannel: boolean;
  psnr: number;
  ssim: number;
  images: Array<{ name: string; psnr: number; ssim: number }>;
}

/**
 * Scores SR images against HR ones the way SR papers do (`metrics/protocol.ts`): each HR image is reduced to 8 bits
 * and mod-cropped to a multiple of `scale`, matched to the SR file with the same basename (any image extension),
 * `crop` border pixels (default `scale`) are removed, and PSNR/SSIM are taken on the BT.601 Y channel (a gray HR
 * image on its gray values) of the 8-bit images.
 */
export async function scoreFolders(
  srDir: string,
  hrDir: string,
  opts: { scale: number; crop?: number; yChannel?: boolean; maxPixels?: number } & TaskOptions,
): Promise<ScoreReport> {
  const path = await import('node:path');
  const hrFiles = await listImageFiles(hrDir);
  const srFiles = await listImageFiles(srDir);
  const srByName = new Map<string, string>();
  for (const f of srFiles) {
    const key = path.basename(f, path.extname(f));
    const prev = srByName.get(key);
    if (prev) throw new InputError(`two SR images share the name "${key}": ${path.basename(prev)} and ${path.basename(f)}; keep one`, { file: srDir });
    srByName.set(key, f);
  }
  const missing = hrFiles.map((f) => path.basename(f, path.extname(f))).filter((k) => !srByName.has(k));
  if (missing.length > 0) {
    throw new InputError(
      `no SR image for ${missing.length} of ${hrFiles.length} HR images (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); ` +
        'SR files must have the same basename as the HR files (e.g. baby.png for HR/baby.png)',
      { file: srDir },
    );
  }
  const crop = opts.crop ?? opts.scale;
  const yChannel = opts.yChannel ?? true;
  const images: ScoreReport['images'] = [];
  for (const [i, hrFile] of hrFiles.entries()) {
    throwIfAborted(opts.signal);
    const name = path.basename(hrFile, path.extname(hrFile));
    const srFile = srByName.get(name) as string;
    const hr = protocolReference(await readImageAsStored(hrFile, opts), opts.scale).target;
    const sr = await readImageAsStored(srFile, opts);
    if (sr.width !== hr.width || sr.height !== hr.height) {
      throw new ShapeError(
        `${srFile} is ${sr.width}x${sr.height} but ${hrFile} mod-cropped to a multiple of ${opts.scale} is ${hr.width}x${hr.height}; ` +
          'check --scale and that the SR image was made from the LR image of this HR image',
      );
    }
    images.push({ name, ...(await scoreImage(sr, hr, opts.scale, { crop, yChannel })) });
    opts.onProgress?.({ stage: 'score', done: i + 1, total: hrFiles.length });
  }
  return { n: images.length, scale: opts.scale, crop, yChannel, ...meanScores(images), images };
}

/** `sharpen-kd score <srDir> <hrDir> --scale N [--json]` */
export const registerScore: RegisterCommand = (program: Command) => {
  program
    .command('score')
    .description('mean Y-PSNR / Y-SSIM of SR images against HR images, as in SR papers (HR mod-cropped, border of `scale` pixels ignored)')
    .argument('<srDir>', 'folder (or file) of SR images, named like the HR files')
    .argument('<hrDir>', 'folder (or file) of HR images')
    .requiredOption('-s, --scale <n>', 'super-resolution factor, e.g. 2, 3 or 4', intOption('--scale', 1))
    .option('--crop <n>', 'border pixels ignored on each side (default: the scale)', intOption('--crop', 0))
    .option('--rgb', 'score all RGB channels instead of the Y channel')
    .option('--json', 'print {"n","psnr","ssim","images":[...]} as JSON')
    .option('--max-pixels <n>', 'refuse images with more pixels than this, from the header, before decoding', intOption('--max-pixels', 1), DEFAULT_MAX_PIXELS)
    .action(
      runCommand(async (srDir: string, hrDir: string, opts: { scale: number; crop?: number; rgb?: boolean; json?: boolean; maxPixels: number }) => {
        const report = await scoreFolders(srDir, hrDir, { scale: opts.scale, crop: opts.crop, yChannel: !opts.rgb, maxPixels: opts.maxPixels, signal: signalFromProcess() });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const w = Math.max(5, ...report.images.map((r) => r.name.length));
        const channel = report.yChannel ? 'Y' : 'RGB';
        const lines = [`${'image'.padEnd(w)}  ${`${channel}-PSNR`.padStart(9)}  ${`${channel}-SSIM`.padStart(8)}`];
        for (const r of report.images) lines.push(`${r.name.padEnd(w)}  ${r.psnr.toFixed(2).padStart(9)}  ${r.ssim.toFixed(4).padStart(8)}`);
        lines.push(`${'mean'.padEnd(w)}  ${report.psnr.toFixed(2).padStart(9)}  ${report.ssim.toFixed(4).padStart(8)}   (n=${report.n}, x${report.scale}, crop ${report.crop})`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
};
