/**
 * Frame-rate benchmark of a model: ms per frame for a given OUTPUT size (the input is that size divided by the
 * scale), end to end from float pixels in to float pixels out (upload, inference, read-back), on the chosen
 * engine. sharp's cubic resize of the same frame (or its unsharp mask at scale 1) is timed in the same run as a
 * reference for what a classical resampler costs on this machine (libvips, all cores).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { ConfigError } from '../errors';
import type { InferenceBackend } from '../infer/engine';
import { Student, studentInternals } from '../infer/student';
import type { StudentPrecision } from '../infer/student-options';
import { describeModel } from '../models/describe';
import { currentPlatform } from '../platform/current';

/**
 * Options of {@link benchmarkFps}.
 *
 * @example
 * ```ts
 * const opts: FpsOptions = { model: 'x4', width: 1280, height: 720, backend: 'onnx', runs: 30 };
 * ```
 */
export interface FpsOptions extends TaskOptions {
  /** A built-in name (`x1`, `x2`, `x2-fast`, `x4`, `x4-plus`, `bicubic`), a saved model path / URL, a LayersModel, or a loaded Student. */
  model: string | tfl.LayersModel | Student;
  /** For `emt-x2` / `emt-x3` / `emt-x4`: the checkpoint file or folder (see {@link StudentLoadOptions.teacherWeights}). */
  teacherWeights?: string;
  /** Output width and height in pixels (multiples of the scale). Default 1280×720. */
  width?: number;
  height?: number;
  /** Engine for names, paths and LayersModels (default `auto`). Ignored for a Student. */
  backend?: InferenceBackend;
  /** Threads for ONNX Runtime / wasm (see {@link StudentLoadOptions.threads}). Ignored for a Student. */
  threads?: number;
  /** ONNX Runtime worker spinning (see {@link StudentLoadOptions.spinning}). Ignored for a Student. */
  spinning?: boolean;
  /** Names and paths: `'int8'` times the model's int8 graph (see {@link StudentLoadOptions.precision}). */
  precision?: StudentPrecision;
  /** `bicubic` only: its scale (default 4). */
  scale?: number;
  /** Untimed frames first (default 3). */
  warmup?: number;
  /** Timed frames (default 20). */
  runs?: number;
  /** Time sharp's resize as a reference (Node only; default true). */
  reference?: boolean;
}

/**
 * What {@link benchmarkFps} returns (the CLI's `--json` output).
 *
 * @example
 * ```ts
 * const r: FpsResult = await benchmarkFps({ model: 'x4' });
 * console.log(`${r.fps.toFixed(1)} fps (${r.msMedian.toFixed(1)} ms), sharp: ${r.reference?.fps.toFixed(0)} fps`);
 * ```
 */
export interface FpsResult {
  /** Frames per second at the median frame time. */
  fps: number;
  msMedian: number;
  msP95: number;
  /** Engine used: `onnx` or the TF.js backend. */
  backend: string;
  /** ONNX Runtime's execution provider (`cpu`, `wasm`, `webgpu`); absent on TF.js. */
  executionProvider?: string;
  /** `'int8'` when the model's int8 graph ran (see {@link StudentLoadOptions.precision}); absent for float. */
  precision?: 'int8';
  model: string;
  /** Output size. */
  width: number;
  height: number;
  params: number;
  /** GFLOPs per frame (`describeModel`; for bicubic, the multiply-adds of the two separable passes). */
  gflops: number;
  /** sharp's resize (or unsharp mask at scale 1) of the same frame, timed in the same run; null in browsers. */
  reference: { name: string; fps: number } | null;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function timeFrames(fn: () => Promise<unknown>, warmup: number, runs: number, signal?: AbortSignal, onTick?: (i: number) => void): Promise<number[]> {
  for (let i = 0; i < warmup; i++) {
    throwIfAborted(signal);
    await fn();
  }
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    throwIfAborted(signal);
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
    onTick?.(i + 1);
  }
  return ms.sort((a, b) => a - b);
}

async function referenceFps(inW: number, inH: number, outW: number, outH: number, opts: { warmup: number; runs: number; signal?: AbortSignal }) {
  const { loadSharp } = await import('../io/node-image');
  const sharp = await loadSharp();
  const frame = new Uint8Array(inW * inH * 3).map((_, i) => (i * 2654435761) >>> 24);
  const raw = { raw: { width: inW, height: inH, channels: 3 as const } };
  const same = inW === outW && inH === outH;
  const name = same ? 'sharp sharpen (unsharp mask)' : 'sharp resize cubic';
  const fn = () => (same ? sharp(frame, raw).sharpen() : sharp(frame, raw).resize(outW, outH, { kernel: 'cubic', fit: 'fill' })).raw().toBuffer();
  const ms = await timeFrames(fn, opts.warmup, opts.runs, opts.signal);
  return { name, fps: 1000 / percentile(ms, 50) };
}

/**
 * Measures a model's frame rate for one output size: median and 95th-percentile ms per frame, fps, parameters and
 * GFLOPs per frame, plus sharp's resize of the same frame as a reference.
 *
 * @throws ConfigError when the size is not a multiple of the scale; ModelError / BackendError from loading.
 * @example
 * ```ts
 * const r = await benchmarkFps({ model: 'x4', width: 1280, height: 720, backend: 'onnx' });
 * // { fps: 48.1, msMedian: 20.8, msP95: 23.0, backend: 'onnx', model: 'x4', params: 19_000, gflops: 2.2, reference: {...} }
 * ```
 */
export async function benchmarkFps(opts: FpsOptions): Promise<FpsResult> {
  const width = opts.width ?? 1280;
  const height = opts.height ?? 720;
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 20;
  if (![width, height].every((v) => Number.isInteger(v) && v > 0)) throw new ConfigError(`width and height must be positive integers, got ${width}x${height}`);
  if (!Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(runs) || runs < 1) throw new ConfigError('warmup must be >= 0 and runs >= 1 (integers)');
  const owned = !(opts.model instanceof Student);
  const student =
    opts.model instanceof Student
      ? opts.model
      : typeof opts.model === 'string'
        ? await Student.load(opts.model, { backend: opts.backend, scale: opts.scale, signal: opts.signal, teacherWeights: opts.teacherWeights, threads: opts.threads, spinning: opts.spinning, precision: opts.precision })
        : await Student.fromModel(opts.model, { backend: opts.backend, borrowModel: true, threads: opts.threads, spinning: opts.spinning });
  try {
    const s = student.scale;
    if (width % s !== 0 || height % s !== 0) {
      throw new ConfigError(`output size ${width}x${height} is not a multiple of the scale ${s}: use e.g. ${width - (width % s)}x${height - (height % s)}`);
    }
    const inW = width / s;
    const inH = height / s;
    const { runner, model, flopsPerInputPixel } = studentInternals(student);
    const frame = new Float32Array(inW * inH * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
    const total = warmup + runs;
    const ms = await timeFrames(() => runner.run(frame, inH, inW, 3, { transient: true }), warmup, runs, opts.signal, (i) =>
      opts.onProgress?.({ stage: 'bench', done: warmup + i, total }),
    );
    const d = model ? describeModel(model, { inputSize: [inH, inW] }) : undefined;
    // A Student on a shipped .onnx has no layers model: its file records the FLOPs per input pixel.
    const gflops = d ? d.flops / 1e9 : flopsPerInputPixel !== undefined ? (flopsPerInputPixel * inW * inH) / 1e9 : ((width * inH + width * height) * 3 * 8) / 1e9;
    const reference = opts.reference !== false && currentPlatform().sharp ? await referenceFps(inW, inH, width, height, { warmup, runs, signal: opts.signal }) : null;
    const msMedian = percentile(ms, 50);
    return {
      fps: 1000 / msMedian,
      msMedian,
      msP95: percentile(ms, 95),
      backend: student.info.backend,
      ...(student.info.executionProvider ? { executionProvider: student.info.executionProvider } : {}),
      ...(student.info.precision === 'int8' ? { precision: 'int8' as const } : {}),
      model: student.info.name,
      width,
      height,
      params: d ? d.params : student.info.params,
      gflops,
      reference,
    };
  } finally {
    if (owned) student.dispose();
  }
}
