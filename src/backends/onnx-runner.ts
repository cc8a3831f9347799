/**
 * ONNX Runtime inference for exported models: onnxruntime-node in Node, onnxruntime-web in browsers, both
 * optional peer dependencies imported on first use. Given ONNX bytes or a path, nothing of TF.js is loaded; the
 * exporter (and with it TF.js) is imported only to convert a LayersModel.
 *
 * Thread policy in Node (measured with `scripts/bench-ort-policy.ts`, idle and with a background load it starts):
 * intra-op threads = every available core, and worker threads spin between ops. On an idle machine spinning is the
 * fast choice: these nets are ~30 small ops per frame and a sleeping worker pays a wake-up at each one (the ×4 at
 * 1280×720 took 57–59 ms per frame sleeping and 42–44 ms spinning on the idle 2-core reference machine, as reported
 * when this default was revisited). On a machine whose cores are busy with other work (training runs), spinning
 * workers compete with that work for the cores and are slower; `spinning: false` (or `SHARPEN_KD_ORT_SPINNING=off`,
 * CLI `--spinning off`) is for that case.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BackendError, ConfigError, ShapeError } from '../errors';
import type { OnnxExportOptions } from '../models/onnx/export';
import { readOnnxMetadata } from '../models/onnx/proto';
import { currentPlatform } from '../platform/current';
import { providedOnnxRuntime } from '../platform/provided';
import { tfCore } from './tf-lazy';

/** Name of the graph input of sharpen-kd exports (`ONNX_INPUT` of the exporter, which this module does not import). */
const INPUT_NAME = 'input';

/** The parts of the onnxruntime API used here (onnxruntime-common). */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

/**
 * Options of {@link createOnnxRunner}.
 *
 * @example
 * ```ts
 * const opts: OnnxRunnerOptions = { threads: 2 };
 * ```
 */
export interface OnnxRunnerOptions {
  /**
   * Intra-op threads, a positive integer. Default in Node: every available core (`os.availableParallelism()`), set
   * explicitly because ONNX Runtime's own default was slower on the 2-core reference machine (`scripts/bench-ort.ts`);
   * in browsers, `ort.env.wasm.numThreads`, which onnxruntime-web reads once, at its first session (when neither this
   * nor the app set it: `navigator.hardwareConcurrency` on a cross-origin isolated page, else 1).
   */
  threads?: number;
  /**
   * Whether idle intra-op worker threads spin (busy-wait) between ops instead of sleeping (onnxruntime-node, and
   * onnxruntime-web's wasm threads).
   * Default: `SHARPEN_KD_ORT_SPINNING` (`on` / `off`) when set, else true, the fast choice on an idle machine;
   * false suits a machine whose cores are busy with other work (see the file comment).
   */
  spinning?: boolean;
  /** Execution providers, e.g. `['cpu']` (Node) or `['wasm']` / `['webgpu', 'wasm']` (web). */
  executionProviders?: string[];
  /**
   * Export options used when a LayersModel is given. In Node with the CPU provider, `target` defaults to `'ort-cpu'`
   * (see {@link OnnxExportOptions.target}).
   */
  exportOptions?: Omit<OnnxExportOptions, 'layout'>;
  /**
   * Image layout of the graph exported from a LayersModel: `'nhwc'` (default, like TF.js) or `'nchw'`, which has no
   * Transpose at either end (about 6% less CPU time per frame for the students on ONNX Runtime's CPU provider;
   * `run` then takes and returns `[N, C, H, W]`). ONNX bytes or files keep the layout they were exported with
   * ({@link OnnxRunner.layout} tells which).
   */
  layout?: 'nhwc' | 'nchw';
  /** An already imported onnxruntime module (skips the dynamic import); default: the one given to `provideOnnxRuntime`. */
  ort?: unknown;
  /**
   * Node: run the session on a worker thread (`backends/onnx-worker.ts`), so that the event loop stays free while a
   * frame runs: other work of the process (decoding, converting, writing) overlaps the model. Runs are queued in
   * order; inputs are copied to the worker. Default false (one image at a time gains nothing from it).
   * `sharpenVideo` turns it on.
   */
  offThread?: boolean;
}

/**
 * Result of {@link OnnxRunner.run}.
 *
 * @example
 * ```ts
 * const { data, shape }: OnnxRunResult = await runner.run(pixels, [1, 64, 64, 3]); // shape [1, 256, 256, 3] at x4
 * ```
 */
export interface OnnxRunResult {
  data: Float32Array;
  /** Output shape, in the graph's {@link OnnxRunner.layout}. */
  shape: number[];
}

/**
 * A live ONNX Runtime session for an image model (NHWC, or NCHW: see `layout`). Call `dispose()` to free it.
 *
 * @example
 * ```ts
 * const runner = await createOnnxRunner(student);
 * const { data, shape } = await runner.run(pixels, [1, 180, 320, 3]); // shape [1, 720, 1280, 3]
 * await runner.dispose();
 * ```
 */
export interface OnnxRunner {
  /** Which runtime package is used. */
  readonly runtime: 'onnxruntime-node' | 'onnxruntime-web';
  readonly outputNames: readonly string[];
  /** @internal The graph input that takes the image (`input` in sharpen-kd exports, else the first). */
  readonly inputName: string;
  /**
   * The graph's image layout: `'nhwc'` (`run` takes `[N, H, W, C]`) or `'nchw'` (`[N, C, H, W]`), from the export
   * options or, for ONNX bytes, the `layout` entry of the model's metadata that {@link exportOnnx} writes (`'nhwc'`
   * when there is none).
   */
  readonly layout: 'nhwc' | 'nchw';
  /** Runs float32 data of `shape` (`[N, H, W, C]`, or `[N, C, H, W]` in `'nchw'` layout); returns the first output. */
  run(x: Float32Array, shape: readonly number[]): Promise<OnnxRunResult>;
  /** Runs and returns every output by name (for tapped models). */
  runAll(x: Float32Array, shape: readonly number[]): Promise<Record<string, OnnxRunResult>>;
  /**
   * @internal Runs float32 `feeds` by input name (every input of the graph) and returns the `fetches` outputs, as
   * ONNX Runtime gives them (float32 or uint8 data): ONNX Runtime runs only what those need.
   */
  runFeeds(feeds: Record<string, { data: Float32Array; dims: readonly number[] }>, fetches: readonly string[]): Promise<Record<string, { data: Float32Array | Uint8Array; shape: number[] }>>;
  /** Tensor convenience: `[N, H, W, 3]` in, `[N, H*s, W*s, 3]` out whatever the layout, the first output (caller disposes both). */
  runTensor(x: tf.Tensor4D): Promise<tf.Tensor4D>;
  /**
   * Tensor convenience for a model with several outputs (a tapped model: the prediction, then the tap features):
   * every output as an NHWC tensor, in {@link OnnxRunner.outputNames} order (the caller disposes them).
   */
  runTensors(x: tf.Tensor4D): Promise<tf.Tensor4D[]>;
  dispose(): Promise<void>;
}

/** The `layout` metadata entry of ONNX bytes that {@link exportOnnx} wrote; `'nhwc'` for any other graph. */
function graphLayout(bytes: Uint8Array): OnnxRunner['layout'] {
  try {
    return readOnnxMetadata(bytes).layout === 'nchw' ? 'nchw' : 'nhwc';
  } catch {
    return 'nhwc'; // not a model ONNX Runtime will load either: its own error is the one to report
  }
}

function isLayersModel(x: unknown): x is tfl.LayersModel {
  return typeof x === 'object' && x !== null && 'layers' in x && 'predict' in x && 'inputs' in x;
}

/**
 * @internal The onnxruntime module runners use: `opts.ort`, else the provided one (`provideOnnxRuntime`), else the
 * platform's package imported by name.
 *
 * @throws BackendError with an install hint when it is not installed.
 */
export async function loadOrt(opts: Pick<OnnxRunnerOptions, 'ort'> = {}): Promise<{ ort: OrtModule; runtime: OnnxRunner['runtime'] }> {
  const platform = currentPlatform();
  const runtime = platform.onnxRuntime;
  const given = opts.ort ?? providedOnnxRuntime();
  if (given) return { ort: normalise(given), runtime };
  try {
    return { ort: normalise(await platform.loadPackage(runtime)), runtime };
  } catch (e) {
    throw new BackendError(
      `ONNX Runtime is not available: install it with \`npm install ${runtime}\` (an optional peer dependency of sharpen-kd)${runtime === 'onnxruntime-web' ? " and hand it over with provideOnnxRuntime(ort) after `import * as ort from 'onnxruntime-web'`" : ''}, or use the TF.js backends instead`,
      { cause: e },
    );
  }
}

/** Cores this Node process may use (`os.availableParallelism`, Node ≥ 18.14), or undefined where unknown. */
async function availableCores(): Promise<number | undefined> {
  try {
    const os = await import('node:os');
    const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Values `SHARPEN_KD_ORT_SPINNING` accepts. */
const SPINNING_ENV: Record<string, boolean> = { on: true, off: false, '1': true, '0': false, true: true, false: false };

/**
 * @internal Whether onnxruntime-node workers spin: the option, else `SHARPEN_KD_ORT_SPINNING`, else true.
 *
 * @throws ConfigError for a value of the variable that is not on / off (1 / 0, true / false).
 */
export function resolveSpinning(spinning: boolean | undefined, env: string | undefined = currentPlatform().env('SHARPEN_KD_ORT_SPINNING')): boolean {
  if (spinning !== undefined) {
    if (typeof spinning !== 'boolean') throw new ConfigError(`spinning must be true or false, got ${JSON.stringify(spinning)}`);
    return spinning;
  }
  if (env === undefined || env === '') return true;
  const v = SPINNING_ENV[env.trim().toLowerCase()];
  if (v === undefined) throw new ConfigError(`SHARPEN_KD_ORT_SPINNING must be on or off, got "${env}"`);
  return v;
}

function normalise(mod: unknown): OrtModule {
  const m = mod as Partial<OrtModule> & { default?: Partial<OrtModule> };
  const ort = (m.InferenceSession ? m : m.default) as OrtModule | undefined;
  if (!ort?.InferenceSession || !ort.Tensor) throw new BackendError('the onnxruntime module has no InferenceSession/Tensor: is it onnxruntime-node or onnxruntime-web?');
  return ort;
}

/** A failed `session.run` as a {@link BackendError} that names the inputs (the engine's own message follows). */
function runError(e: unknown, inputs: string): BackendError {
  const msg = e instanceof Error ? e.message : String(e);
  return new BackendError(`ONNX Runtime could not run the model on ${inputs}: ${msg}`, { cause: e });
}

/**
 * Creates an ONNX Runtime session from a LayersModel (exported on the fly with {@link exportOnnx}), ONNX
 * bytes, or (Node) a `.onnx` path. Inputs and outputs are NHWC float32, like the TF.js model.
 *
 * @throws BackendError with an install hint when onnxruntime-node / onnxruntime-web is not installed.
 * @example
 * ```ts
 * const runner = await createOnnxRunner(await loadModel('runs/x4'), { threads: 2 });
 * const sr = await runner.runTensor(lr); // tf.Tensor4D
 * await runner.dispose();
 * ```
 */
export async function createOnnxRunner(source: tfl.LayersModel | Uint8Array | ArrayBuffer | string, opts: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new ConfigError(`threads must be a positive integer, got ${String(opts.threads)}`);
  }
  const spinning = resolveSpinning(opts.spinning);
  const { ort, runtime } = await loadOrt(opts);
  currentPlatform().configureOnnxRuntime(ort, opts.threads);
  if (opts.layout !== undefined && opts.layout !== 'nhwc' && opts.layout !== 'nchw') throw new ConfigError(`layout must be 'nhwc' or 'nchw', got ${String(opts.layout)}`);
  let model: Uint8Array;
  let layout: OnnxRunner['layout'];
  if (isLayersModel(source)) {
    const { modelToOnnx } = await import('../models/onnx/export');
    const cpu = runtime === 'onnxruntime-node' && (!opts.executionProviders || opts.executionProviders.every((p) => p === 'cpu'));
    layout = opts.layout ?? 'nhwc';
    model = modelToOnnx(source, { target: cpu ? 'ort-cpu' : 'any', ...opts.exportOptions, layout });
  } else {
    model = source instanceof ArrayBuffer ? new Uint8Array(source) : typeof source === 'string' ? await currentPlatform().readBytes(source, source) : source;
    layout = graphLayout(model);
  }
  const sessionOptions: Record<string, unknown> = { graphOptimizationLevel: 'all' };
  const threads = opts.threads ?? (runtime === 'onnxruntime-node' ? await availableCores() : undefined);
  if (threads !== undefined) sessionOptions.intraOpNumThreads = threads;
  // Spinning (see the file comment): on by default since spinning off cost 1.7x on an idle machine; off on request.
  // onnxruntime-web reads the same session config entry for its wasm threads.
  sessionOptions.extra = { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } };
  if (opts.executionProviders) sessionOptions.executionProviders = opts.executionProviders;
  let session: OrtSession;
  if (opts.offThread) {
    const offThread = currentPlatform().offThreadOnnxSession;
    if (!offThread || runtime !== 'onnxruntime-node') {
      throw new ConfigError('offThread runs onnxruntime-node on a worker thread, in Node only (onnxruntime-web has its own: ort.env.wasm.proxy = true)');
    }
    session = await offThread(model, sessionOptions);
  } else {
    try {
      session = await ort.InferenceSession.create(model, sessionOptions);
    } catch (e) {
      throw new BackendError(`ONNX Runtime could not load the model: ${(e as Error).message}`, { cause: e });
    }
  }
  const inputName = session.inputNames.includes(INPUT_NAME) ? INPUT_NAME : session.inputNames[0];
  let disposed = false;

  const runAll = async (x: Float32Array, shape: readonly number[]): Promise<Record<string, OnnxRunResult>> => {
    if (disposed) throw new BackendError('this ONNX runner has been disposed');
    if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new ShapeError(`expected an ${layout.toUpperCase()} shape ${layout === 'nhwc' ? '[N, H, W, C]' : '[N, C, H, W]'}, got ${JSON.stringify(shape)}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (x.length !== n) throw new ShapeError(`data has ${x.length} values but shape ${JSON.stringify(shape)} needs ${n}`);
    const input = opts.offThread ? { type: 'float32', data: x, dims: shape } : new ort.Tensor('float32', x, shape);
    let out: Record<string, OrtTensor>;
    try {
      out = await session.run({ [inputName]: input });
    } catch (e) {
      throw runError(e, `an input of ${JSON.stringify(shape)}`);
    } finally {
      (input as OrtTensor).dispose?.();
    }
    const res: Record<string, OnnxRunResult> = {};
    for (const name of session.outputNames) {
      const t = out[name];
      res[name] = { data: t.data as Float32Array, shape: [...t.dims] };
    }
    return res;
  };

  const runFeeds: OnnxRunner['runFeeds'] = async (feeds, fetches) => {
    if (disposed) throw new BackendError('this ONNX runner has been disposed');
    const inputs: Record<string, OrtTensor | { type: string; data: Float32Array; dims: readonly number[] }> = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) inputs[name] = opts.offThread ? { type: 'float32', data, dims } : new ort.Tensor('float32', data, dims);
    let out: Record<string, OrtTensor>;
    try {
      out = await session.run(inputs as Record<string, OrtTensor>, fetches);
    } catch (e) {
      throw runError(e, Object.entries(feeds).map(([name, f]) => `${name} ${JSON.stringify(f.dims)}`).join(', '));
    } finally {
      for (const t of Object.values(inputs)) (t as OrtTensor).dispose?.();
    }
    const res: Record<string, { data: Float32Array | Uint8Array; shape: number[] }> = {};
    for (const name of fetches) res[name] = { data: out[name].data as Float32Array | Uint8Array, shape: [...out[name].dims] };
    return res;
  };

  // The tensor conveniences speak NHWC whatever the graph's layout.
  const runNhwcTensors = async (x: tf.Tensor4D): Promise<tf.Tensor4D[]> => {
    const tfc = await tfCore();
    const planar = layout === 'nchw';
    const xin = planar ? tfc.transpose(x, [0, 3, 1, 2]) : x;
    let all: Record<string, OnnxRunResult>;
    try {
      all = await runAll((await xin.data()) as Float32Array, xin.shape);
    } finally {
      if (xin !== x) xin.dispose();
    }
    for (const name of session.outputNames) {
      const { shape } = all[name];
      if (shape.length !== 4) throw new ShapeError(`ONNX output "${name}" has shape [${shape.join(', ')}]; expected a 4-D image tensor`);
    }
    return session.outputNames.map((name) => {
      const t = tfc.tensor4d(all[name].data, all[name].shape as [number, number, number, number]);
      if (!planar) return t;
      const nhwc = tfc.transpose(t, [0, 2, 3, 1]);
      t.dispose();
      return nhwc;
    });
  };

  return {
    runtime,
    layout,
    outputNames: session.outputNames,
    inputName,
    runAll,
    runFeeds,
    async run(x, shape) {
      return (await runAll(x, shape))[session.outputNames[0]];
    },
    async runTensor(x) {
      const [first, ...rest] = await runNhwcTensors(x);
      for (const t of rest) t.dispose();
      return first;
    },
    runTensors: runNhwcTensors,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
