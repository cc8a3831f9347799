import type { Command } from 'commander';
import { benchmarkFps } from '../bench/fps';
import type { InferenceBackend } from '../infer/engine';
import type { RegisterCommand } from './run-command';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { backendOption, intOption, onOffOption, sizeOption } from './options';
import { MODEL_HELP, SPINNING_HELP, TEACHER_WEIGHTS_HELP } from './sharpen';

interface BenchCliOptions {
  model: string;
  size: [number, number];
  backend?: InferenceBackend;
  scale?: number;
  warmup: number;
  runs: number;
  json?: boolean;
  teacherWeights?: string;
  threads?: number;
  spinning?: boolean;
}

/** `sharpen-kd bench [--model x4] [--size 1280x720] [--backend b] [--json]` */
export const registerBench: RegisterCommand = (program: Command) => {
  program
    .command('bench')
    .description('frames per second of a model at an OUTPUT size (median / p95 ms per frame, params, GFLOPs), with sharp resize as a reference')
    .option('-m, --model <name|path>', MODEL_HELP, 'x4')
    .option('--teacher-weights <path>', TEACHER_WEIGHTS_HELP)
    .option('--size <WxH>', 'OUTPUT frame size; the input is this divided by the scale', sizeOption, [1280, 720] as [number, number])
    .option('-b, --backend <name>', 'inference engine (default auto: onnx if installed, else wasm)', backendOption)
    .option('-s, --scale <n>', 'bicubic only: its scale (default 4)', intOption('--scale', 1, 8))
    .option('--warmup <n>', 'untimed frames first', intOption('--warmup', 0), 3)
    .option('--runs <n>', 'timed frames', intOption('--runs', 1), 20)
    .option('--threads <n>', 'threads for ONNX Runtime / wasm (default: every core on ONNX Runtime)', intOption('--threads', 1))
    .option('--spinning <on|off>', SPINNING_HELP, onOffOption('--spinning'))
    .option('--json', 'print the result as JSON on stdout')
    .action(
      runCommand(async (o: BenchCliOptions) => {
        const signal = signalFromProcess();
        const bar = o.json ? undefined : new ProgressBar('bench');
        const r = await benchmarkFps({
          model: o.model,
          teacherWeights: o.teacherWeights,
          width: o.size[0],
          height: o.size[1],
          backend: o.backend,
          scale: o.scale,
          threads: o.threads,
          spinning: o.spinning,
          warmup: o.warmup,
          runs: o.runs,
          signal,
          onProgress: (p) => bar?.update(p),
        });
        bar?.finish();
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...r, glibcTunables: process.env.GLIBC_TUNABLES ?? null })}\n`);
          return;
        }
        process.stdout.write(
          `${r.model} on ${r.backend}, ${r.width}x${r.height} output: ${r.fps.toFixed(1)} fps ` +
            `(median ${r.msMedian.toFixed(1)} ms, p95 ${r.msP95.toFixed(1)} ms), ${r.params} params, ${r.gflops.toFixed(2)} GFLOPs/frame\n`,
        );
        if (r.reference) process.stdout.write(`reference ${r.reference.name}: ${r.reference.fps.toFixed(1)} fps\n`);
      }),
    );
};
