import type { Command } from 'commander';
import { benchmarkFps } from '../bench/fps';
import { useBackend } from '../backends/use-backend';
import { ConfigError } from '../errors';
import { getModelInfo } from '../models/metadata';
import { buildStudent } from '../models/student';
import type { InferenceBackend } from '../infer/engine';
import type { RegisterCommand } from './run-command';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { backendOption, intOption, onOffOption, sizeOption } from './options';
import { INT8_HELP, MODEL_HELP, SPINNING_HELP, TEACHER_WEIGHTS_HELP } from './sharpen';
import { addStudentShapeOptions, shapeFlagsGiven, studentShape, type StudentShapeCliOptions } from './student-shape';

interface BenchCliOptions extends StudentShapeCliOptions {
  model?: string;
  size: [number, number];
  backend?: InferenceBackend;
  scale?: number;
  warmup: number;
  runs: number;
  json?: boolean;
  teacherWeights?: string;
  threads?: number;
  spinning?: boolean;
  int8?: boolean;
}

/**
 * `sharpen-kd bench [--model x4] [--size 1280x720] [--backend b] [--json]`, or `bench --arch compact --width 24 --depth 8
 * --scale 2 ...`: an untrained student of that shape (random weights; the graph its training would export), to choose a
 * size for a speed budget before training it.
 */
export const registerBench: RegisterCommand = (program: Command) => {
  const cmd = program
    .command('bench')
    .description('frames per second of a model at an OUTPUT size (median / p95 ms per frame, params, GFLOPs), with sharp resize as a reference; --arch times a student shape before it is trained')
    .option('-m, --model <name|path>', `${MODEL_HELP} (default: x4)`)
    .option('--teacher-weights <path>', TEACHER_WEIGHTS_HELP);
  addStudentShapeOptions(
    cmd,
    'time an untrained student of this shape instead of a saved model: compact, espcn or fsrcnn, at --scale, with --width, --depth, ... as train takes them (random weights: the graph its training exports, so the frame rate of the trained student)',
  )
    .option('--size <WxH>', 'OUTPUT frame size; the input is this divided by the scale', sizeOption, [1280, 720] as [number, number])
    .option('-b, --backend <name>', 'inference engine (default auto: onnx if installed, else wasm)', backendOption)
    .option('-s, --scale <n>', 'the scale of bicubic and of an --arch student (default 4)', intOption('--scale', 1, 8))
    .option('--warmup <n>', 'untimed frames first', intOption('--warmup', 0), 3)
    .option('--runs <n>', 'timed frames', intOption('--runs', 1), 20)
    .option('--threads <n>', 'threads for ONNX Runtime / wasm (default: every core on ONNX Runtime)', intOption('--threads', 1))
    .option('--spinning <on|off>', SPINNING_HELP, onOffOption('--spinning'))
    .option('--int8', INT8_HELP)
    .option('--json', 'print the result as JSON on stdout')
    .action(
      runCommand(async (o: BenchCliOptions) => {
        const signal = signalFromProcess();
        if (o.arch === undefined && shapeFlagsGiven(o).length > 0) throw new ConfigError(`${shapeFlagsGiven(o).join(', ')} describe a student to build: add --arch compact (or espcn, fsrcnn)`);
        if (o.arch !== undefined && o.model !== undefined) throw new ConfigError('give --model (a saved model) or --arch (a student shape to time untrained), not both');
        if (o.arch !== undefined && o.int8) throw new ConfigError('--int8 runs a saved model\'s int8 graph: give --model, not --arch');
        // The student is built on the cpu backend (its random weights only fix the graph); the engine then runs it.
        if (o.arch !== undefined) await useBackend('cpu');
        const built = o.arch !== undefined ? buildStudent({ ...studentShape(o, o.scale ?? 4), seed: 1 }) : undefined;
        const name = built ? untrainedName(built) : undefined;
        const bar = o.json ? undefined : new ProgressBar('bench');
        const r = await benchmarkFps({
          model: built ?? o.model ?? 'x4',
          teacherWeights: o.teacherWeights,
          width: o.size[0],
          height: o.size[1],
          backend: o.backend,
          scale: o.scale,
          threads: o.threads,
          spinning: o.spinning,
          precision: o.int8 ? 'int8' : undefined,
          warmup: o.warmup,
          runs: o.runs,
          signal,
          onProgress: (p) => bar?.update(p),
        }).finally(() => built?.dispose());
        bar?.finish();
        if (name) r.model = name;
        if (r.precision) r.model = `${r.model} (${r.precision})`;
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...r, glibcTunables: process.env.GLIBC_TUNABLES ?? null })}\n`);
          return;
        }
        process.stdout.write(
          `${r.model} on ${r.backend}, ${r.width}x${r.height} output: ${r.fps.toFixed(1)} fps ` +
            `(median ${r.msMedian.toFixed(1)} ms, p95 ${r.msP95.toFixed(1)} ms), ${r.params} params, ${r.gflops >= 1 ? r.gflops.toFixed(2) : r.gflops.toPrecision(2)} GFLOPs/frame\n`,
        );
        if (r.reference) process.stdout.write(`reference ${r.reference.name}: ${r.reference.fps.toFixed(1)} fps\n`);
      }),
    );
};

/** `compact 24×8 ×2, luma detail, bilinear residual (untrained)`: the shape a built student has, its defaults filled in. */
function untrainedName(model: Parameters<typeof getModelInfo>[0]): string {
  const { arch, scale, options: o } = getModelInfo(model);
  const extra = [
    (o.unshuffle as number | undefined) && (o.unshuffle as number) > 1 ? `unshuffle ${String(o.unshuffle)}` : '',
    o.detail ? `${String(o.detail)} detail` : '',
    o.residualInterpolation ? `${String(o.residualInterpolation)} residual` : '',
    o.preluSlopes === 'layer' ? 'one PReLU slope per layer' : '',
    o.globalGates ? 'global gates' : '',
  ].filter(Boolean);
  const size = o.width !== undefined ? ` ${String(o.width)}${o.depth !== undefined ? `×${String(o.depth)}` : ''}` : '';
  return `${arch}${size} ×${scale}${extra.length ? `, ${extra.join(', ')}` : ''} (untrained)`;
}
