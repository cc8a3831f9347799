import * as fs from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors';
import { sharpenFiles } from '../infer/batch';
import { INFERENCE_BACKENDS, type InferenceBackend } from '../infer/engine';
import { backendOption, choiceOption, intOption, numberOption, onOffOption } from './options';
import { builtinForScale } from '../infer/registry';
import { Student } from '../infer/student';
import type { ImageFormat } from '../io/node-image';
import { DEFAULT_MAX_OUTPUT_PIXELS, DEFAULT_MAX_PIXELS } from '../io/pixel-limits';
import type { RegisterCommand } from './run-command';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { rerunWithMallocTuning } from './malloc-tuning';

/**
 * Loads the model a command asks for: `--model` (name or path), else the shipped student for `--scale`.
 * `bicubic` takes `--scale` (default 4).
 */
export async function studentFromOptions(
  o: { model?: string; scale?: number; backend?: InferenceBackend; threads?: number; spinning?: boolean; teacherWeights?: string; int8?: boolean },
  defaultScale = 4,
): Promise<Student> {
  let name = o.model;
  if (!name) {
    const scale = o.scale ?? defaultScale;
    name = builtinForScale(scale);
    if (!name) throw new ConfigError(`there is no shipped model for scale ${scale}: use --model bicubic, or --model <folder> of a model trained for x${scale}`);
  }
  const scale = name === 'bicubic' ? (o.scale ?? defaultScale) : o.scale;
  return Student.load(name, { backend: o.backend, scale, threads: o.threads, spinning: o.spinning, teacherWeights: o.teacherWeights, precision: o.int8 ? 'int8' : undefined });
}

/** Help of `--int8`. */
export const INT8_HELP = "run the model's int8 graph on ONNX Runtime (the shipped x2, x2-fast and x4-plus have one): faster, 0.1-0.25 dB less PSNR";

/** Help of `--spinning`. */
export const SPINNING_HELP =
  'ONNX Runtime worker threads spin between ops: on (default, fastest on an idle machine) or off (for a machine busy with other work, e.g. training); default from SHARPEN_KD_ORT_SPINNING';

/** Help of `--model` in every command that runs a model. */
export const MODEL_HELP = 'x1, x2, x4 (shipped students), x2-fast (a smaller x2 student: real-time at 1280x720, softer), x4-plus (a larger x4 student: sharper, slower), emt-x2, emt-x3, emt-x4 (the EMT teacher: best quality, slow), bicubic, a saved model folder / model.json, or an EMT .pth checkpoint';
/** Help of `--teacher-weights`. */
export const TEACHER_WEIGHTS_HELP = 'folder or file of the EMT checkpoints EMT_LSR_x{2,3,4}.pth (default $SHARPEN_KD_TEACHERS)';

interface SharpenCliOptions {
  teacherWeights?: string;
  out: string;
  scale?: number;
  model?: string;
  backend?: InferenceBackend;
  tile?: number;
  format?: ImageFormat;
  quality?: number;
  recursive?: boolean;
  overwrite?: boolean;
  threads?: number;
  spinning?: boolean;
  int8?: boolean;
  maxPixels: number;
  maxOutputPixels: number;
  strength: number;
}

/** `sharpen-kd sharpen <inputs...> -o <out> [--scale N] [--model m] [--backend b] [--tile N] [--format f]` */
export const registerSharpen: RegisterCommand = (program: Command) => {
  program
    .command('sharpen')
    .description('sharpen / upscale images or folders of images with a student model (shipped x1, x2, x2-fast, x4, x4-plus, your own, or bicubic); any size, tiled')
    .argument('<inputs...>', 'image files and/or folders')
    .requiredOption('-o, --out <path>', 'output folder (or output file for a single input)')
    .option('-s, --scale <n>', 'upscaling factor 1, 2, 3 or 4; picks the shipped model x1/x2/x4 (default 4)', intOption('--scale', 1, 4))
    .option('-m, --model <name|path>', MODEL_HELP)
    .option('--teacher-weights <path>', TEACHER_WEIGHTS_HELP)
    .option('-b, --backend <name>', `inference engine: ${INFERENCE_BACKENDS.join(', ')} (default auto: onnx if installed, else wasm)`, backendOption)
    .option('-t, --tile <n>', 'tile size in input pixels (default: chosen from the model)', intOption('--tile', 16))
    .option('-f, --format <fmt>', 'output format png, jpeg or webp (default: the input format; webp for an animated GIF, png for other formats)', choiceOption<ImageFormat>('--format', ['png', 'jpeg', 'webp']))
    .option('-q, --quality <n>', 'JPEG / WebP quality 1-100 (default 92)', intOption('--quality', 1, 100))
    .option('-r, --recursive', 'descend into sub-folders (the structure is kept under --out)')
    .option('--overwrite', 'replace existing outputs, even inputs')
    .option('--threads <n>', 'threads for ONNX Runtime / wasm', intOption('--threads', 1))
    .option('--spinning <on|off>', SPINNING_HELP, onOffOption('--spinning'))
    .option('--int8', INT8_HELP)
    .option('--max-pixels <n>', 'refuse inputs with more decoded pixels than this, from the header, before decoding (all frames of an animation)', intOption('--max-pixels', 1), DEFAULT_MAX_PIXELS)
    .option('--max-output-pixels <n>', 'refuse inputs whose output (input pixels x scale², all frames) would be larger, before any work', intOption('--max-output-pixels', 1), DEFAULT_MAX_OUTPUT_PIXELS)
    .option('--strength <x>', 'how much of the model to apply, 0 to 1: output = input + x·(model − input) (x2/x4: the bicubic upscale instead of the input); 1 = the model alone', numberOption('--strength', 0, 1), 1)
    .addHelpText(
      'after',
      [
        '',
        'Animated GIF / WebP inputs are sharpened frame by frame into an animated WebP',
        '(delays and loop kept); with --format png or jpeg (or a .png / .jpg output file)',
        'only the first frame is, with a warning. Multi-page TIFF: the first page, with a',
        'warning. A file over --max-pixels or --max-output-pixels (read from its header,',
        'before decoding) fails on its own and the batch goes on; the exit code is then 2.',
        '',
        '--strength 0.5 applies half of the sharpening: docs/strength.png shows a crop at',
        'strengths 0, 0.5 and 1 (made by scripts/strength-figure.ts).',
      ].join('\n'),
    )
    .action(
      runCommand(async (inputs: string[], o: SharpenCliOptions) => {
        if (inputs.length > 1 || inputs.some((i) => fs.statSync(i, { throwIfNoEntry: false })?.isDirectory())) await rerunWithMallocTuning();
        const signal = signalFromProcess();
        const student = await studentFromOptions(o);
        try {
          process.stderr.write(`sharpen-kd: model ${student.info.name} (x${student.scale}, ${student.info.arch}) on ${student.info.backend}\n`);
          const bar = new ProgressBar('sharpen');
          const summary = await sharpenFiles(student, inputs, {
            output: o.out,
            recursive: o.recursive,
            overwrite: o.overwrite,
            format: o.format,
            quality: o.quality,
            tile: o.tile,
            maxPixels: o.maxPixels,
            maxOutputPixels: o.maxOutputPixels,
            strength: o.strength,
            signal,
            onProgress: (p) => bar.update(p),
            onFile: (e) => {
              if (e.status === 'written') return;
              bar.finish();
              process.stderr.write(`sharpen-kd: ${e.status === 'failed' ? 'error' : 'skipped'}: ${e.file}: ${e.reason}\n`);
            },
            onWarning: (w) => {
              bar.finish();
              process.stderr.write(`sharpen-kd: warning: ${w.message}\n`);
            },
          });
          bar.finish();
          const { written, failed, skipped } = summary;
          process.stderr.write(`sharpen-kd: ${written.length} written, ${failed.length} failed, ${skipped.length} skipped\n`);
          if (failed.length > 0) process.exitCode = 2;
        } finally {
          student.dispose();
        }
      }),
    );
};
