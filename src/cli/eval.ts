import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { InferenceBackend } from '../infer/engine';
import { evaluateStudent } from '../infer/evaluate';
import type { RegisterCommand } from './commands';
import { DEFAULT_MAX_PIXELS } from '../io/pixel-limits';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { backendOption, intOption, MODEL_HELP, studentFromOptions, TEACHER_WEIGHTS_HELP } from './sharpen';

interface EvalCliOptions {
  data: string;
  scale: number;
  model?: string;
  teacherWeights?: string;
  backend?: InferenceBackend;
  tile?: number;
  blur: number;
  json?: boolean;
  threads?: number;
  maxPixels: number;
}

/** `sharpen-kd eval --data <HR dir> --scale N [--model name|path] [--json]` */
export const registerEval: RegisterCommand = (program: Command) => {
  program
    .command('eval')
    .description('score a model like SR papers: mod-crop HR, MATLAB-bicubic downscale, sharpen, round to 8 bits, mean Y-PSNR / Y-SSIM (border = scale)')
    .requiredOption('-d, --data <dir>', 'folder of HR images (e.g. Set5/HR)')
    .requiredOption('-s, --scale <n>', 'scale 1, 2, 3 or 4 (1: input is the HR blurred with --blur)', intOption('--scale', 1, 4))
    .option('-m, --model <name|path>', `${MODEL_HELP} (default: the shipped model for --scale)`)
    .option('--teacher-weights <path>', TEACHER_WEIGHTS_HELP)
    .option('-b, --backend <name>', 'inference engine (default auto)', backendOption)
    .option('-t, --tile <n>', 'tile size in input pixels', intOption('--tile', 16))
    .option('--blur <sigma>', 'scale 1 only: Gaussian blur sigma of the input (default 1)', (v: string) => {
      const n = Number(v);
      if (!(n > 0 && n <= 10)) throw new InvalidArgumentError('--blur must be a number in (0, 10]');
      return n;
    }, 1)
    .option('--threads <n>', 'threads for ONNX Runtime / wasm', intOption('--threads', 1))
    .option('--json', 'print the report as JSON on stdout')
    .option('--max-pixels <n>', 'refuse HR images with more pixels than this, from the header, before decoding', intOption('--max-pixels', 1), DEFAULT_MAX_PIXELS)
    .action(
      runCommand(async (o: EvalCliOptions) => {
        const signal = signalFromProcess();
        const student = await studentFromOptions(o, o.scale);
        try {
          const bar = new ProgressBar('eval');
          const r = await evaluateStudent(student, o.data, { scale: o.scale, tile: o.tile, blurSigma: o.blur, maxPixels: o.maxPixels, signal, onProgress: (p) => bar.update(p) });
          bar.finish();
          if (o.json) {
            process.stdout.write(`${JSON.stringify(r)}\n`);
            return;
          }
          for (const im of r.images) process.stdout.write(`${im.name.padEnd(16)} ${im.psnr.toFixed(2).padStart(6)} dB  ${im.ssim.toFixed(4)}\n`);
          process.stdout.write(`${r.model} x${r.scale} on ${r.backend}: mean Y-PSNR ${r.psnr.toFixed(2)} dB, Y-SSIM ${r.ssim.toFixed(4)} over ${r.n} images\n`);
        } finally {
          student.dispose();
        }
      }),
    );
};
