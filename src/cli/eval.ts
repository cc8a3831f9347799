import type { Command } from 'commander';
import type { InferenceBackend } from '../infer/engine';
import { evaluateX1Baseline, X1_BASELINES, type X1BaselineName } from '../classical/x1-baselines';
import { describeDegradationParams, SHARP_X1_JPEG_QUALITY, X1_PROTOCOLS, type X1Protocol } from '../data/x1-protocol';
import { ConfigError } from '../errors';
import { evaluateStudent, type EvaluateOptions, type EvaluationReport } from '../infer/evaluate';
import type { RegisterCommand } from './run-command';
import { DEFAULT_MAX_PIXELS } from '../io/pixel-limits';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { backendOption, choiceOption, intOption, numberOption } from './options';
import { INT8_HELP, MODEL_HELP, studentFromOptions, TEACHER_WEIGHTS_HELP } from './sharpen';

interface EvalCliOptions {
  data: string;
  scale: number;
  model?: string;
  teacherWeights?: string;
  backend?: InferenceBackend;
  tile?: number;
  protocol?: X1Protocol;
  blur?: number;
  seed?: number;
  baseline?: X1BaselineName;
  json?: boolean;
  threads?: number;
  int8?: boolean;
  maxPixels: number;
}

/** The ×1 protocol flags as library options (`--blur` alone means the gaussian protocol). */
function protocolOptions(o: EvalCliOptions): Pick<EvaluateOptions, 'protocol' | 'seed' | 'blurSigma'> {
  const x1Only = [o.protocol && '--protocol', o.blur !== undefined && '--blur', o.seed !== undefined && '--seed', o.baseline && '--baseline'].filter(Boolean);
  if (o.scale !== 1 && x1Only.length) throw new ConfigError(`${x1Only.join(', ')} ${x1Only.length > 1 ? 'apply' : 'applies'} to --scale 1 only`);
  if (o.scale !== 1) return {};
  const protocol = o.protocol ?? (o.blur !== undefined ? 'gaussian' : 'blind');
  if (protocol === 'blind' && o.blur !== undefined) throw new ConfigError('--blur sets the gaussian protocol\'s sigma; the blind protocol draws its own blur');
  if (protocol !== 'blind' && o.seed !== undefined) throw new ConfigError('--seed applies to the blind protocol');
  if (protocol === 'sharp' && o.blur !== undefined) throw new ConfigError('--blur sets the gaussian protocol\'s sigma; the sharp protocol does not blur');
  return { protocol, seed: o.seed, blurSigma: o.blur };
}

/** `sharpen-kd eval --data <HR dir> --scale N [--model name|path | --baseline name] [--protocol blind|gaussian|sharp] [--json]` */
export const registerEval: RegisterCommand = (program: Command) => {
  program
    .command('eval')
    .description('score a model like SR papers: mod-crop HR, MATLAB-bicubic downscale (scale 1: a blind blur / noise / JPEG per image), sharpen, round to 8 bits, mean Y-PSNR / Y-SSIM (border = scale)')
    .requiredOption('-d, --data <dir>', 'folder of HR images (e.g. Set5/HR)')
    .requiredOption('-s, --scale <n>', 'scale 1, 2, 3 or 4 (1: sharpening, input made by --protocol)', intOption('--scale', 1, 4))
    .option('-m, --model <name|path>', `${MODEL_HELP} (default: the shipped model for --scale)`)
    .option('--teacher-weights <path>', TEACHER_WEIGHTS_HELP)
    .option('-b, --backend <name>', 'inference engine (default auto)', backendOption)
    .option('-t, --tile <n>', 'tile size in input pixels', intOption('--tile', 16))
    .option('--protocol <name>', 'scale 1 only: blind (default: a random blur / noise / JPEG per image, seeded), gaussian (the HR blurred with --blur, default 1) or sharp (the HR as JPEG at quality 90, nothing to sharpen: does the model leave it alone?)', choiceOption('--protocol', X1_PROTOCOLS))
    .option('--blur <sigma>', 'scale 1, gaussian protocol: Gaussian blur sigma of the input (default 1; implies --protocol gaussian)', numberOption('--blur', 0, 10, true))
    .option('--seed <n>', 'scale 1, blind protocol: seed of the per-image degradations (default 1, the published one)', intOption('--seed', 0, 0xffffffff))
    .option('--baseline <name>', `scale 1 only: score a classical baseline instead of a model: ${Object.keys(X1_BASELINES).join(', ')}`, choiceOption('--baseline', Object.keys(X1_BASELINES) as X1BaselineName[]))
    .option('--threads <n>', 'threads for ONNX Runtime / wasm', intOption('--threads', 1))
    .option('--int8', INT8_HELP)
    .option('--json', 'print the report as JSON on stdout')
    .option('--max-pixels <n>', 'refuse HR images with more pixels than this, from the header, before decoding', intOption('--max-pixels', 1), DEFAULT_MAX_PIXELS)
    .action(
      runCommand(async (o: EvalCliOptions) => {
        const signal = signalFromProcess();
        const opts = protocolOptions(o);
        const bar = new ProgressBar('eval');
        let r: EvaluationReport;
        if (o.baseline) {
          if (o.model || o.int8) throw new ConfigError(`--baseline scores a classical method: drop ${o.model ? '--model' : '--int8'}`);
          r = await evaluateX1Baseline(o.baseline, o.data, { ...opts, maxPixels: o.maxPixels, signal, onProgress: (p) => bar.update(p) });
        } else {
          const student = await studentFromOptions(o, o.scale);
          try {
            r = await evaluateStudent(student, o.data, { ...opts, scale: o.scale, tile: o.tile, maxPixels: o.maxPixels, signal, onProgress: (p) => bar.update(p) });
          } finally {
            student.dispose();
          }
        }
        bar.finish();
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        for (const im of r.images) {
          const deg = im.degradation && r.protocol?.name === 'blind' ? `  ${describeDegradationParams(im.degradation)}` : '';
          process.stdout.write(`${im.name.padEnd(16)} ${im.psnr.toFixed(2).padStart(6)} dB  ${im.ssim.toFixed(4)}${deg}\n`);
        }
        const p = r.protocol;
        const how = !p ? '' : p.name === 'blind' ? `, blind protocol (seed ${p.seed})` : p.name === 'sharp' ? `, sharp protocol (JPEG q${SHARP_X1_JPEG_QUALITY}, no blur)` : `, gaussian protocol (sigma ${p.blurSigma})`;
        process.stdout.write(`${r.model} x${r.scale} on ${r.backend}${r.precision ? ` (${r.precision})` : ''}${how}: mean Y-PSNR ${r.psnr.toFixed(2)} dB, Y-SSIM ${r.ssim.toFixed(4)} over ${r.n} images\n`);
      }),
    );
};
