/**
 * Saving and loading models in the TF.js layers format (model.json + weights.bin) without tfjs-node:
 * files in Node, URLs (fetch) in browsers and Node, and in-memory artifacts anywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { ConfigError, IoError, ModelError, SharpenError } from '../errors';
import '../models/layers/index';
import { currentPlatform } from '../platform/current';
import { quantizeWeights, type WeightQuantization } from './model-io-quantize';

export type { WeightQuantization } from './model-io-quantize';

/**
 * Options of {@link saveModel} and {@link modelToArtifacts}.
 *
 * @example
 * ```ts
 * await saveModel(student, 'out/x4', { quantize: 'float16' }); // half-size weights
 * ```
 */
export interface SaveModelOptions extends TaskOptions {
  /** Store weights as float16 (half size, ~1e-3 relative error) or uint8 (quarter size, per-tensor affine). Default float32. */
  quantize?: WeightQuantization;
}

/**
 * What {@link saveModel} wrote.
 *
 * @example
 * ```ts
 * const r: SaveModelResult = await saveModel(model, 'models/mine', { quantize: 'float16' });
 * console.log(`${r.modelPath}: ${r.bytes} bytes of weights`);
 * ```
 */
export interface SaveModelResult {
  modelPath: string;
  weightsPath: string;
  /** Size of the weights file in bytes. */
  bytes: number;
}

/**
 * Where {@link loadModel} reads a model from: a folder or `model.json` path (Node), an `http(s)://` or
 * `file://` URL, in-memory `tf.io.ModelArtifacts`, or any `tf.io.IOHandler`.
 *
 * @example
 * ```ts
 * const sources: ModelSource[] = ['runs/x2/model-best', 'https://cdn.example/x4/model.json', await modelToArtifacts(model)];
 * ```
 */
export type ModelSource = string | URL | tf.io.ModelArtifacts | tf.io.IOHandler;

/**
 * Serialises a model to in-memory artifacts (one weights buffer), optionally quantised. Works everywhere;
 * use it in browsers to store a model (e.g. IndexedDB) or to pass it to {@link loadModel}.
 *
 * @throws ConfigError for an unknown quantisation; ModelError when a layer cannot be serialised.
 * @example
 * ```ts
 * const artifacts = await modelToArtifacts(student, { quantize: 'uint8' });
 * const copy = await loadModel(artifacts);
 * ```
 */
export async function modelToArtifacts(model: tfl.LayersModel, opts: SaveModelOptions = {}): Promise<tf.io.ModelArtifacts> {
  if (opts.quantize !== undefined && opts.quantize !== 'float16' && opts.quantize !== 'uint8') {
    throw new ConfigError(`quantize must be 'float16' or 'uint8' (or omitted for float32), got ${String(opts.quantize)}`);
  }
  const unsaveable = model.layers.find((l) => l.getClassName() === 'GraphModelLayer');
  if (unsaveable) throw new ModelError(`model "${model.name}" wraps a GraphModel (layer "${unsaveable.name}") and cannot be saved: save the GraphModel itself`);
  let captured: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        captured = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } catch (e) {
    throw new ModelError(`cannot serialise model "${model.name}": ${(e as Error).message}. Only layers registered with tf.serialization.registerClass can be saved.`, { cause: e });
  }
  const a = captured!;
  const data = a.weightData ? tf.io.CompositeArrayBuffer.join(a.weightData) : new ArrayBuffer(0);
  const specs = a.weightSpecs ?? [];
  const q = opts.quantize ? quantizeWeights(specs, data, opts.quantize) : { specs, data };
  return { ...a, weightSpecs: q.specs, weightData: q.data, convertedBy: 'sharpen-kd' };
}

/**
 * Saves a model as `dir/model.json` + `dir/weights.bin` (Node; no tfjs-node needed). Each file is written
 * atomically, weights first, so an interrupted save never leaves a truncated file. Metadata
 * ({@link sharpen-kd/models!getModelInfo | getModelInfo}) is kept.
 *
 * @throws IoError when the folder cannot be written; ConfigError for a bad option; AbortError when aborted.
 * @example
 * ```ts
 * await saveModel(student, 'runs/x4');                          // float32
 * await saveModel(student, 'dist/x4-fp16', { quantize: 'float16' });
 * ```
 */
export async function saveModel(model: tfl.LayersModel, dir: string, opts: SaveModelOptions = {}): Promise<SaveModelResult> {
  if (!currentPlatform().fileSystem) {
    throw new IoError('saveModel writes files and runs in Node only; in browsers use modelToArtifacts() or model.save("indexeddb://name")');
  }
  if (typeof dir !== 'string' || dir.length === 0) throw new ConfigError('saveModel needs a folder path');
  throwIfAborted(opts.signal);
  const artifacts = await modelToArtifacts(model, opts);
  throwIfAborted(opts.signal);
  const { writeModelArtifacts } = await import('./model-io-node');
  const res = await writeModelArtifacts(dir, artifacts);
  opts.onProgress?.({ stage: 'save-model', done: 1, total: 1, info: { bytes: res.bytes } });
  return res;
}

/**
 * Loads a layers model saved by {@link saveModel} (or any TF.js layers-model, e.g. from the tensorflowjs
 * converter, with float32 or quantised weights), registering sharpen-kd's custom layers first.
 *
 * @throws ModelError when the files are missing, corrupt or inconsistent; AbortError when aborted.
 * @example
 * ```ts
 * const m1 = await loadModel('runs/x4');                          // folder (Node)
 * const m2 = await loadModel('https://example.com/x4/model.json'); // URL (browser or Node 18+)
 * const m3 = await loadModel(await modelToArtifacts(m1));         // in memory
 * ```
 */
export async function loadModel(source: ModelSource, opts: TaskOptions = {}): Promise<tfl.LayersModel> {
  throwIfAborted(opts.signal);
  const handler = await toHandler(source);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(handler, {
      onProgress: (f) => opts.onProgress?.({ stage: 'load-model', done: f, total: 1 }),
    });
  } catch (e) {
    if (e instanceof SharpenError) throw e;
    throw new ModelError(`cannot load model from ${describeSource(source)}: ${(e as Error).message}`, { cause: e });
  }
  if (opts.signal?.aborted) {
    model.dispose();
    throwIfAborted(opts.signal);
  }
  return model;
}

function describeSource(s: ModelSource): string {
  if (typeof s === 'string') return s;
  if (s instanceof URL) return s.href;
  return 'load' in s && typeof s.load === 'function' ? 'an IOHandler' : 'in-memory artifacts';
}

function isHandler(s: unknown): s is tf.io.IOHandler {
  return typeof s === 'object' && s !== null && typeof (s as tf.io.IOHandler).load === 'function';
}

async function toHandler(source: ModelSource): Promise<tf.io.IOHandler> {
  if (isHandler(source)) return source;
  if (typeof source === 'object' && !(source instanceof URL)) {
    if (!('modelTopology' in source) || source.modelTopology == null) throw new ModelError('in-memory artifacts have no modelTopology');
    return tf.io.fromMemory(source);
  }
  const str = source instanceof URL ? source.href : source;
  if (typeof str !== 'string' || str.length === 0) throw new ConfigError('loadModel needs a path, URL, artifacts or IOHandler');
  const { fileSystem } = currentPlatform();
  if (/^https?:\/\//i.test(str) || (!fileSystem && !str.startsWith('file:'))) {
    return tf.io.http(str);
  }
  if (!fileSystem) throw new IoError(`cannot read ${str} in a browser: serve it over http(s) or pass artifacts`);
  let p = str;
  if (str.startsWith('file:')) {
    const { fileURLToPath } = await import('node:url');
    p = fileURLToPath(str);
  }
  const { readModelArtifacts } = await import('./model-io-node');
  const artifacts = await readModelArtifacts(p);
  return { load: async () => artifacts };
}
