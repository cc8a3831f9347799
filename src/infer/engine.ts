/**
 * Chooses what runs the model: ONNX Runtime (onnxruntime-node / onnxruntime-web) or a TF.js backend.
 * In Node, `'auto'` prefers ONNX Runtime when it is installed and the model exports to ONNX (3–5× faster than
 * tfjs-wasm on these small convolutional nets) and falls back to wasm otherwise.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { BACKEND_NAMES, ensureTfBackend, useBackend, type BackendName } from '../backends/use-backend';
import { BackendError, ConfigError, ShapeError } from '../errors';
import { I420_NAMES } from '../models/onnx/i420-output';
import { readOnnxMetadata } from '../models/onnx/proto';
import { currentPlatform } from '../platform/current';
import { LumaDetailTail } from './luma-detail-tail';
import { tfjsRunner } from './runners';
import type { TileRunner } from './tile-engine';

/**
 * The engines a model can run on, one vocabulary for `Student.load`, the CLI's `--backend` and the teachers of
 * `distill`: `'auto'`, `'onnx'` (ONNX Runtime), `'tfjs'` (TF.js on the backend already active, else the default one)
 * or a named TF.js backend. `onnxPolicy` (in this module) says what each means for ONNX Runtime.
 *
 * @example
 * ```ts
 * const backend: InferenceBackend = process.env.CI ? 'wasm' : 'auto';
 * ```
 */
export type InferenceBackend = 'auto' | 'onnx' | 'tfjs' | BackendName;

/** Engine actually in use: `'onnx'` or the name of the TF.js backend. */
export type EngineName = string;

/**
 * Every value of {@link InferenceBackend}.
 *
 * @example
 * ```ts
 * INFERENCE_BACKENDS.includes('onnx'); // true
 * ```
 */
export const INFERENCE_BACKENDS: readonly InferenceBackend[] = ['auto', 'onnx', 'tfjs', ...BACKEND_NAMES];

/**
 * How an engine choice treats ONNX Runtime, the one rule every model runner follows (`Student`, `selectEngine`, the
 * teachers of `distill`): `'onnx'` requires it; `'auto'` tries it where the platform prefers it (Node) and falls back
 * to TF.js when it is missing or the model does not export; a TF.js backend name never uses it.
 *
 * @example
 * ```ts
 * onnxPolicy('auto'); // 'try' in Node, 'never' in browsers
 * ```
 */
export function onnxPolicy(backend: InferenceBackend): 'required' | 'try' | 'never' {
  if (backend === 'onnx') return 'required';
  if (backend === 'auto') return currentPlatform().autoEngine === 'onnx' ? 'try' : 'never';
  return 'never';
}

/** Initialises the TF.js backend `opts.backend` names, or the active / default one for `auto`, `onnx` and `tfjs`. */
export async function prepareTfBackend(opts: { backend?: InferenceBackend; threads?: number }): Promise<string> {
  const b = opts.backend ?? 'auto';
  if (b === 'auto' || b === 'onnx' || b === 'tfjs' || !INFERENCE_BACKENDS.includes(b)) return ensureTfBackend(opts.threads);
  return useBackend(b, { threads: opts.threads, trainingKernels: false });
}

/** ONNX Runtime settings a Student passes on (see `OnnxRunnerOptions`). */
export interface OnnxEngineOptions {
  threads?: number;
  spinning?: boolean;
  /** Execution providers to try, best first, each on its own (default: the platform's, `Platform.onnxProviders`). */
  executionProviders?: readonly string[];
  /** Node: the session on a worker thread (see `OnnxRunnerOptions.offThread`). */
  offThread?: boolean;
  /** The graph also writes I420 (`models/onnx/i420-output.ts`), for {@link TileRunner.runI420}. */
  i420Output?: boolean;
  /** Luma-detail students: the output stage in WebAssembly after the graph's detail (default true; see `luma-detail-tail.ts`). */
  lumaDetailTail?: boolean;
}

/**
 * @internal Validates `threads` and `spinning` before any engine is tried (a bad value must not read as "ONNX Runtime
 * is missing" and fall back to TF.js).
 *
 * @throws ConfigError for a `threads` that is not a positive integer or a `spinning` that is not a boolean.
 */
export function checkEngineOptions(opts: OnnxEngineOptions): void {
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new ConfigError(`threads must be a positive integer, got ${String(opts.threads)}`);
  }
  if (opts.spinning !== undefined && typeof opts.spinning !== 'boolean') throw new ConfigError(`spinning must be true or false, got ${JSON.stringify(opts.spinning)}`);
  if (opts.offThread !== undefined && typeof opts.offThread !== 'boolean') throw new ConfigError(`offThread must be true or false, got ${JSON.stringify(opts.offThread)}`);
  const eps = opts.executionProviders;
  if (eps !== undefined && !(Array.isArray(eps) && eps.length > 0 && eps.every((p) => typeof p === 'string' && p.length > 0))) {
    throw new ConfigError(`executionProviders must be a non-empty list of ONNX Runtime execution provider names (e.g. ['webgpu', 'wasm']), got ${JSON.stringify(eps)}`);
  }
}

/**
 * @internal A tile runner on ONNX Runtime for a LayersModel (exported on the fly) or ready ONNX bytes, on the first
 * execution provider of `opts.executionProviders` (default: the platform's list) whose session loads.
 *
 * @throws BackendError when onnxruntime is missing or no provider can load the graph; ConfigError for bad options.
 */
export async function onnxTileRunner(
  model: tfl.LayersModel | Uint8Array,
  scale: number,
  opts: OnnxEngineOptions = {},
): Promise<{ runner: TileRunner; provider: string }> {
  const { createOnnxRunner, loadOrt } = await import('../backends/onnx-runner');
  const { ort, runtime } = await loadOrt(); // a missing runtime fails here, once, not once per provider
  const providers = opts.executionProviders ?? (await currentPlatform().onnxProviders());
  let i420 = opts.i420Output === true;
  // The output stage of a luma-detail student in WebAssembly (undefined without WebAssembly SIMD, or when turned off).
  // Only where the graph runs on the CPU too: on a GPU the graph's own upsample and sum cost next to nothing.
  const onCpu = providers.every((p) => p === 'cpu' || p === 'wasm');
  const tail = opts.lumaDetailTail !== false && onCpu && (scale === 2 || scale === 4) ? LumaDetailTail.create() : undefined;
  // The cut graph's output: the luma detail, or (without I420) its sub-pixel phases before the pixel shuffle.
  let lumaDetail: { tensor: string; phases: boolean; whole: Uint8Array } | undefined;
  if (i420 || tail) {
    // The graph is cut and the I420 outputs are added on ONNX bytes: a layers model is exported here first, as
    // createOnnxRunner would.
    const { withI420Output, lumaDetailModel } = await import('../models/onnx/i420-output');
    if (!(model instanceof Uint8Array)) {
      const { modelToOnnx } = await import('../models/onnx/export');
      const cpu = runtime === 'onnxruntime-node' && providers.every((p) => p === 'cpu');
      model = modelToOnnx(model, { target: cpu ? 'ort-cpu' : 'any', layout: 'nchw' });
    }
    if (readOnnxMetadata(model).layout === 'nchw') {
      // A luma-detail student runs a graph cut after its detail, and the caller adds the upsampled input (and
      // converts to I420): `infer/luma-detail-tail.ts`. The whole graph (with its I420 outputs) is loaded only if a
      // frame needs it.
      const cut = lumaDetailModel(model, { phases: !i420 });
      if (cut && cut.detail.scale === scale) {
        lumaDetail = { tensor: cut.phases ?? cut.detail.tensor, phases: cut.phases !== undefined, whole: i420 ? withI420Output(model) : model };
        model = cut.model;
      } else if (i420) model = withI420Output(model);
    } else i420 = false; // a planar graph only; this one gets no I420 outputs (its frames are converted by the caller)
  }
  let found: { r: Awaited<ReturnType<typeof createOnnxRunner>>; provider: string } | undefined;
  const failed: string[] = [];
  let lastError: unknown;
  for (const provider of providers) {
    try {
      // Students run planar (NCHW) graphs: readTile / writeRows convert while they read and write the pixels anyway,
      // so the graph needs no Transpose at either end.
      found = { r: await createOnnxRunner(model, { ort, threads: opts.threads, spinning: opts.spinning, offThread: opts.offThread, executionProviders: [provider], layout: 'nchw' }), provider };
      break;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      failed.push(`${provider}: ${(e as Error).message}`);
      lastError = e;
    }
  }
  if (!found) {
    if (failed.length === 1 && lastError instanceof BackendError) throw lastError;
    throw new BackendError(`no ONNX Runtime execution provider could load the model (${failed.join('; ')})`, { cause: lastError });
  }
  const { r: first, provider } = found;
  const planar = first.layout === 'nchw';
  let wholeRunner: Promise<typeof first> | undefined;
  // The runner of the whole graph: the first one, or, when that is cut after the luma detail, one made on demand.
  const whole = async (): Promise<typeof first> => {
    if (!lumaDetail) return first;
    wholeRunner ??= createOnnxRunner(lumaDetail.whole, { ort, threads: opts.threads, spinning: opts.spinning, offThread: opts.offThread, executionProviders: [provider], layout: 'nchw' });
    return wholeRunner;
  };
  // The cut graph's luma detail (or its phases) of a planar RGB tile.
  const runDetail = async (tile: Float32Array, height: number, width: number): Promise<Float32Array> => {
    const name = lumaDetail!.tensor;
    const { data, shape } = (await first.runFeeds({ [first.inputName]: { data: tile, dims: [1, 3, height, width] } }, [name]))[name];
    const expect = lumaDetail!.phases ? [1, scale * scale, height, width] : [1, 1, height * scale, width * scale];
    if (shape.join() !== expect.join()) throw new ShapeError(`ONNX luma detail has shape [${shape.join(', ')}], expected [${expect.join(', ')}]`);
    return data as Float32Array;
  };
  // With I420 outputs, every run feeds the conversion's weights (zeros when only RGB is fetched: they are not used).
  const noWeights = { [I420_NAMES.lumaWeights]: { data: new Float32Array(3), dims: [1, 3, 1, 1] }, [I420_NAMES.chromaWeights]: { data: new Float32Array(6), dims: [2, 3, 1, 1] } };
  const runner: TileRunner = {
    scale,
    channels: [3],
    layout: first.layout,
    async run(tile, height, width, channels, runOpts) {
      if (lumaDetail && tail && channels === 3 && LumaDetailTail.supports(width, height, scale, 'rgb')) {
        const detail = await runDetail(tile, height, width);
        const view = runOpts?.transient === true;
        return lumaDetail.phases ? tail.rgbFromPhases(tile, detail, width, height, scale, { view }) : tail.rgb(tile, detail, width, height, scale, { view });
      }
      const r = await whole();
      const dims = planar ? [1, channels, height, width] : [1, height, width, channels];
      const { data, shape } = i420 ? (await r.runFeeds({ [r.inputName]: { data: tile, dims }, ...noWeights }, [r.outputNames[0]]))[r.outputNames[0]] : await r.run(tile, dims);
      const expect = planar ? [1, channels, height * scale, width * scale] : [1, height * scale, width * scale, channels];
      if (shape.join() !== expect.join()) throw new ShapeError(`ONNX model output has shape [${shape.join(', ')}], expected [${expect.join(', ')}]`);
      return data as Float32Array;
    },
    runI420: i420
      ? async (tile, height, width, weights) => {
          const [W, H] = [width * scale, height * scale];
          if (W % 2 !== 0 || H % 2 !== 0) throw new ShapeError(`I420 needs an even width and height, got ${W}x${H}`);
          const r = await whole();
          const feeds = {
            [r.inputName]: { data: tile, dims: [1, 3, height, width] },
            [I420_NAMES.lumaWeights]: { data: weights.luma, dims: [1, 3, 1, 1] },
            [I420_NAMES.chromaWeights]: { data: weights.chroma, dims: [2, 3, 1, 1] },
          };
          const { data, shape } = (await r.runFeeds(feeds, [I420_NAMES.i420]))[I420_NAMES.i420];
          if (shape.join() !== `1,${W * H * 1.5}`) throw new ShapeError(`ONNX I420 output has shape [${shape.join(', ')}], expected [1, ${W * H * 1.5}]`);
          return data as Uint8Array;
        }
      : undefined,
    runLumaDetail: lumaDetail && i420 ? runDetail : undefined,
    dispose() {
      void first.dispose();
      void wholeRunner?.then((w) => w.dispose(), () => undefined);
    },
  };
  return { runner, provider };
}

/**
 * Resolves `opts.backend` into a runner for `model` (or only the engine name for bicubic, `model` undefined).
 *
 * @throws BackendError when the requested engine is not installed; ConfigError for an unknown name.
 */
export async function selectEngine(
  model: tfl.LayersModel | undefined,
  scale: number,
  opts: { backend?: InferenceBackend } & OnnxEngineOptions = {},
): Promise<{ name: EngineName; runner: TileRunner; provider?: string }> {
  const backend = opts.backend ?? 'auto';
  if (!INFERENCE_BACKENDS.includes(backend)) {
    throw new ConfigError(`unknown backend "${String(backend)}": use one of ${INFERENCE_BACKENDS.join(', ')}`);
  }
  checkEngineOptions(opts);
  const none: TileRunner = { scale, channels: [], run: () => Promise.reject(new Error('no model')), dispose() {} };
  if (!model) {
    if (backend === 'onnx') throw new ConfigError('the bicubic model runs on TF.js: use --backend wasm or cpu (or leave it on auto)');
    return { name: await prepareTfBackend(opts), runner: none };
  }
  if (onnxPolicy(backend) !== 'never') {
    try {
      const { runner, provider } = await onnxTileRunner(model, scale, opts);
      await ensureTfBackend(opts.threads);
      return { name: 'onnx', runner, provider };
    } catch (e) {
      if (backend === 'onnx') {
        throw e instanceof BackendError ? e : new BackendError(`cannot run this model on ONNX Runtime: ${(e as Error).message}. Use --backend wasm`, { cause: e });
      }
      // auto: ONNX Runtime missing or the model does not export; TF.js below.
    }
  }
  return { name: await prepareTfBackend(opts), runner: tfjsRunner(model, scale) };
}
