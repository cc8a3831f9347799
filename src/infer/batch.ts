/**
 * Batches of files and folders (Node): expands folders (optionally recursively), maps every input to an output
 * path, sharpens one file at a time and writes atomically. A bad file is reported and the batch goes on; inputs
 * are never overwritten unless asked.
 */
import { throwIfAborted, type TaskOptions } from '../core/task';
import { ConfigError, InputError, SharpenError, type SharpenWarning } from '../errors';
import { writeFileAtomic } from '../io/atomic-write';
import { IMAGE_EXTENSIONS, isImageFileName } from '../io/image-files';
import type { ImageFormat } from '../io/node-image';
import { checkFormatSize, DEFAULT_MAX_OUTPUT_PIXELS, DEFAULT_MAX_PIXELS, resolveLimit } from '../io/pixel-limits';
import { sharpenFrames } from './frames';
import { encodePixels, loadInput, outputFormat } from './inputs';
import { checkStrength } from './strength';
import type { Student } from './student';

const EXT: Record<ImageFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp' };

/**
 * Options of {@link sharpenFiles}.
 *
 * @example
 * ```ts
 * const opts: SharpenFilesOptions = { output: 'out/', recursive: true, format: 'png' };
 * ```
 */
export interface SharpenFilesOptions extends TaskOptions {
  /** Output file (one input file) or folder (created if missing). */
  output: string;
  /** Descend into sub-folders of folder inputs; the folder structure is kept under `output`. */
  recursive?: boolean;
  /** Replace existing files, inputs included. Off by default: existing outputs are skipped, inputs are never replaced. */
  overwrite?: boolean;
  /**
   * Output format (default: the input's if PNG/JPEG/WebP, WebP for an animated GIF, else PNG). Animated GIF /
   * WebP inputs are sharpened frame by frame into an animated WebP; asking for PNG or JPEG keeps their first frame
   * only (with a warning), as for multi-page TIFFs.
   */
  format?: ImageFormat;
  quality?: number;
  /** Tile size in input pixels (see {@link SharpenOptions.tile}). */
  tile?: number;
  /** Cap on an input's decoded pixels, checked from its header (see {@link SharpenOptions.maxPixels}); over it, the file fails. */
  maxPixels?: number;
  /** Cap on an output's pixels (see {@link SharpenOptions.maxOutputPixels}); over it, the file fails before any work. */
  maxOutputPixels?: number;
  /** How much of the model to apply, 0 to 1 (default 1; see {@link SharpenOptions.strength}). */
  strength?: number;
  /** Tile progress of the current file (`info.file` is `"k/n name"`). */
  onProgress?: TaskOptions['onProgress'];
  /** Called once per file as soon as it is done, failed or skipped. */
  onFile?: (e: BatchEvent) => void;
  /** Called when a file is written with a caveat (only the first frame or page of a multi-frame input). */
  onWarning?: (w: SharpenWarning) => void;
}

/**
 * What happened to one file.
 *
 * @example
 * ```ts
 * const onFile = (e: BatchEvent) => e.status === 'failed' && console.error(`${e.file}: ${e.reason}`);
 * ```
 */
export interface BatchEvent {
  status: 'written' | 'failed' | 'skipped';
  file: string;
  /** Output path (written). */
  output?: string;
  /** Why it failed or was skipped. */
  reason?: string;
  /** Files handled so far and in total. */
  done: number;
  total: number;
}

/**
 * Result of {@link sharpenFiles}.
 *
 * @example
 * ```ts
 * if (summary.failed.length) process.exitCode = 2;
 * ```
 */
export interface BatchSummary {
  written: Array<{ file: string; output: string }>;
  failed: Array<{ file: string; reason: string }>;
  skipped: Array<{ file: string; reason: string }>;
}

interface Job {
  file: string;
  /** Path relative to the output folder, without extension. */
  rel: string;
  ext: string;
}

async function expand(inputs: string[], recursive: boolean, skipped: BatchSummary['skipped']): Promise<Job[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const jobs: Job[] = [];
  for (const input of inputs) {
    const st = await fs.stat(input).catch(() => undefined);
    if (!st?.isDirectory()) {
      // Files (and missing paths, which then fail with a clear message) are taken as given.
      jobs.push({ file: input, rel: path.basename(input, path.extname(input)), ext: path.extname(input) });
      continue;
    }
    const walk = async (dir: string): Promise<void> => {
      const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (recursive) await walk(full);
          else skipped.push({ file: full, reason: 'folder (use --recursive)' });
        } else if (isImageFileName(e.name)) {
          const rel = path.relative(input, full);
          jobs.push({ file: full, rel: rel.slice(0, rel.length - path.extname(rel).length), ext: path.extname(rel) });
        } else {
          skipped.push({ file: full, reason: 'not an image (by extension)' });
        }
      }
    };
    await walk(input);
  }
  return jobs;
}

/**
 * Sharpens files and folders into `output`. Each file is decoded, sharpened and written atomically (temp file +
 * rename), so a failure or abort never leaves a partial output. Corrupt, truncated, unsupported, empty or too
 * large files (over `maxPixels` / `maxOutputPixels`, refused from their header) are reported (`onFile`, summary)
 * and the batch continues; an abort stops it.
 *
 * @throws ConfigError for an ambiguous output, a bad limit or strength; AbortError when aborted.
 * @example
 * ```ts
 * using s = await Student.load('x4');
 * const summary = await sharpenFiles(s, ['photos/'], { output: 'out/', recursive: true });
 * console.log(`${summary.written.length} written, ${summary.failed.length} failed`);
 * ```
 */
export async function sharpenFiles(student: Student, inputs: string[], opts: SharpenFilesOptions): Promise<BatchSummary> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  if (inputs.length === 0) throw new ConfigError('no inputs: give image files or folders');
  resolveLimit(opts.maxPixels, DEFAULT_MAX_PIXELS, 'maxPixels');
  resolveLimit(opts.maxOutputPixels, DEFAULT_MAX_OUTPUT_PIXELS, 'maxOutputPixels');
  checkStrength(opts.strength);
  const summary: BatchSummary = { written: [], failed: [], skipped: [] };
  const jobs = await expand(inputs, opts.recursive ?? false, summary.skipped);
  const total = jobs.length + summary.skipped.length;
  let done = 0;
  const report = (e: Omit<BatchEvent, 'done' | 'total'>) => opts.onFile?.({ ...e, done: ++done, total });
  for (const s of summary.skipped) report({ status: 'skipped', file: s.file, reason: s.reason });

  // One input file and an output that is not an existing folder: the output is a file name.
  const outStat = await fs.stat(opts.output).catch(() => undefined);
  const singleFile =
    jobs.length === 1 && inputs.length === 1 && !outStat?.isDirectory() && IMAGE_EXTENSIONS.includes(path.extname(opts.output).toLowerCase());
  if (jobs.length > 1 && outStat && !outStat.isDirectory()) {
    throw new ConfigError(`output ${opts.output} is a file but there are ${jobs.length} inputs: give a folder`);
  }
  const inputPaths = new Set(await Promise.all(jobs.map((j) => fs.realpath(j.file).catch(() => path.resolve(j.file)))));
  const claimed = new Set<string>();

  for (const job of jobs) {
    throwIfAborted(opts.signal);
    try {
      const asked = opts.format ?? (singleFile ? extFormat(opts.output) : undefined);
      const loaded = await loadInput(job.file, undefined, {
        maxPixels: opts.maxPixels,
        maxOutputPixels: opts.maxOutputPixels,
        scale: student.scale,
        format: asked,
        onWarning: opts.onWarning,
      });
      const frames = loaded.animation?.frames ?? 1;
      const format = outputFormat(asked, loaded.format, frames > 1);
      checkFormatSize(job.file, format, loaded.pixels.width * student.scale, (loaded.pixels.height / frames) * student.scale);
      const out = singleFile ? opts.output : path.join(opts.output, job.rel + EXT[format]);
      const resolved = await fs.realpath(out).catch(() => path.resolve(out));
      if (claimed.has(resolved)) throw new InputError(`output ${out} would also be written by another input: rename one of them`, { file: job.file });
      claimed.add(resolved);
      if (inputPaths.has(resolved) && !opts.overwrite) {
        summary.skipped.push({ file: job.file, reason: `output ${out} is an input (use --overwrite to replace it)` });
        report({ status: 'skipped', file: job.file, reason: `output ${out} is an input (use --overwrite to replace it)` });
        continue;
      }
      if (!opts.overwrite && (await fs.stat(out).catch(() => undefined))) {
        summary.skipped.push({ file: job.file, reason: `output ${out} exists (use --overwrite)` });
        report({ status: 'skipped', file: job.file, reason: `output ${out} exists (use --overwrite)` });
        continue;
      }
      const index = done + 1;
      const pixels = await sharpenFrames(student, loaded.pixels, frames, {
        tile: opts.tile,
        signal: opts.signal,
        maxOutputPixels: opts.maxOutputPixels,
        strength: opts.strength,
        onProgress: (p) => opts.onProgress?.({ ...p, info: { ...p.info, file: `${index}/${total} ${path.basename(job.file)}` } }),
      });
      const bytes = await encodePixels(pixels, format, { quality: opts.quality, icc: loaded.icc, animation: format === 'webp' ? loaded.animation : undefined });
      throwIfAborted(opts.signal);
      await writeFileAtomic(out, bytes);
      summary.written.push({ file: job.file, output: out });
      report({ status: 'written', file: job.file, output: out });
    } catch (e) {
      if (!(e instanceof SharpenError) || !['E_INPUT', 'E_SHAPE', 'E_IO'].includes(e.code)) throw e;
      const reason = e instanceof InputError && e.file === job.file ? e.message.slice(job.file.length + 2) : e.message;
      summary.failed.push({ file: job.file, reason });
      report({ status: 'failed', file: job.file, reason });
    }
  }
  return summary;
}

function extFormat(file: string): ImageFormat | undefined {
  const ext = file.toLowerCase().split('.').pop();
  return ext === 'png' ? 'png' : ext === 'jpg' || ext === 'jpeg' ? 'jpeg' : ext === 'webp' ? 'webp' : undefined;
}
