/** What `distill` accepts as a teacher, and how it is run and identified (for the teacher-output cache). */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, ShapeError } from '../errors';
import { onnxPolicy, type InferenceBackend } from '../infer/engine';
import { tapModel } from '../models/taps';

/**
 * A teacher given as a function: LR batch `[N, h, w, 3]` in, prediction `[N, h·s, w·s, 3]` out (caller disposes
 * the result; the input must not be disposed). Use it to plug in ONNX Runtime or any other engine.
 *
 * @example
 * ```ts
 * const teacher: TeacherFn = (lr) => tf.image.resizeBilinear(lr, [lr.shape[1] * 2, lr.shape[2] * 2]);
 * ```
 */
export type TeacherFn = (lr: tf.Tensor4D) => tf.Tensor4D | Promise<tf.Tensor4D>;

/**
 * A teacher: a TF.js layers model (its first output is the prediction) or a {@link TeacherFn}.
 *
 * @example
 * ```ts
 * const t: Teacher = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16 });
 * ```
 */
export type Teacher = tfl.LayersModel | TeacherFn;

/** True when `t` is a layers model (duck-typed, so that copies of tfjs-layers from other bundles work). */
export function isLayersModel(t: unknown): t is tfl.LayersModel {
  return typeof t === 'object' && t !== null && typeof (t as tfl.LayersModel).predict === 'function' && Array.isArray((t as tfl.LayersModel).layers);
}

/**
 * Runs a teacher on an LR batch (no gradients). The caller disposes the result.
 *
 * @example
 * ```ts
 * const sr = await runTeacher(teacher, lr);
 * ```
 */
export async function runTeacher(t: Teacher, lr: tf.Tensor4D): Promise<tf.Tensor4D> {
  let out: tf.Tensor4D;
  if (isLayersModel(t)) {
    out = tf.tidy(() => {
      const y = t.predict(lr) as tf.Tensor | tf.Tensor[];
      const first = (Array.isArray(y) ? y[0] : y) as tf.Tensor4D;
      if (Array.isArray(y)) for (const x of y.slice(1)) x.dispose();
      return first;
    });
  } else if (typeof t === 'function') {
    out = await t(lr);
  } else {
    throw new ConfigError('teacher must be a TF.js layers model or a function (lr) => prediction');
  }
  if (out.rank !== 4 || out.shape[0] !== lr.shape[0] || out.shape[3] !== 3) {
    const shape = out.shape;
    out.dispose();
    throw new ShapeError(`teacher returned [${shape.join(', ')}] for an input of [${lr.shape.join(', ')}]; expected [N, H·s, W·s, 3]`);
  }
  return out;
}

/**
 * A stable identity of a teacher for cache keys: a SHA-256 of a layers model's weights, or the `id` the caller gives
 * for a function teacher.
 *
 * @example
 * ```ts
 * const id = await teacherIdentity(teacherModel); // 'sha256:3f…'
 * ```
 */
export async function teacherIdentity(t: Teacher, id?: string): Promise<string> {
  if (id) return id;
  if (!isLayersModel(t)) throw new ConfigError('a function teacher needs a teacherId (any string that changes when the teacher changes) to cache its outputs');
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  h.update(JSON.stringify(t.layers.map((l) => l.getClassName())));
  for (const w of t.weights) {
    const d = w.read().dataSync() as Float32Array;
    h.update(JSON.stringify(w.shape));
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return `sha256:${h.digest('hex').slice(0, 32)}`;
}

/**
 * Which engine runs a layers-model teacher: the engine vocabulary of inference ({@link InferenceBackend}) without the
 * named TF.js backends (a teacher runs on the training backend): `'auto'` (ONNX Runtime when installed, see
 * `onnxPolicy`), `'onnx'` or `'tfjs'`.
 *
 * @example
 * ```ts
 * const rt: TeacherRuntime = 'tfjs';
 * ```
 */
export type TeacherRuntime = Extract<InferenceBackend, 'auto' | 'onnx' | 'tfjs'>;

/**
 * A teacher's prediction and, for a prepared teacher with feature taps, its tap features (in tap order), all for the
 * same LR batch. The caller disposes every tensor.
 *
 * @example
 * ```ts
 * const { output, features } = await prepared.runWithFeatures(lr);
 * tf.dispose([output, ...features]);
 * ```
 */
export interface TeacherOutputs {
  output: tf.Tensor4D;
  features: tf.Tensor4D[];
}

/**
 * Options of {@link prepareTeacher}.
 *
 * @example
 * ```ts
 * const opts: PrepareTeacherOptions = { threads: 2, taps: featureTaps(teacher) };
 * ```
 */
export interface PrepareTeacherOptions {
  /** ONNX Runtime intra-op threads (default: every available core). */
  threads?: number;
  /**
   * Layer names whose outputs `runWithFeatures` returns besides the prediction (feature taps, e.g. `featureTaps(t)`);
   * a layers-model teacher only. Default: none.
   */
  taps?: string[];
}

/**
 * A prepared teacher: `run(lr)` gives the prediction, `runWithFeatures(lr)` the prediction and the tap features in one
 * pass (caller disposes them). `runtime` says which engine is used.
 *
 * @example
 * ```ts
 * const runner = await prepareTeacher(teacher, 'auto');
 * const sr = await runner.run(lr);
 * await runner.dispose();
 * ```
 */
export interface PreparedTeacher {
  runtime: 'onnx' | 'tfjs' | 'function';
  /** Why ONNX Runtime was not used, when `'auto'` fell back to TF.js. */
  fallbackReason?: string;
  /** The feature taps `runWithFeatures` returns (empty when none were asked for). */
  readonly taps: readonly string[];
  run(lr: tf.Tensor4D): Promise<tf.Tensor4D>;
  runWithFeatures(lr: tf.Tensor4D): Promise<TeacherOutputs>;
  dispose(): Promise<void>;
}

/** Largest |a − b| over two tensors of the same shape (Infinity when the shapes differ), and max |b|. */
function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): { diff: number; scale: number } {
  if (a.shape.join() !== b.shape.join()) return { diff: Infinity, scale: 1 };
  const [d, m] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], tf.max(tf.abs(b)).dataSync()[0]]);
  return { diff: d, scale: m };
}

/**
 * Splits a model's outputs into the prediction and its features, checking their shapes against the LR batch; with
 * `keepFeatures` false, every output after the first is disposed. Disposes everything when a shape is wrong.
 */
function splitOutputs(outs: tf.Tensor4D[], lr: tf.Tensor4D, keepFeatures: boolean, engine: string): TeacherOutputs {
  const [output, ...rest] = outs;
  const bad = [output, ...(keepFeatures ? rest : [])].find((y, i) => y.rank !== 4 || y.shape[0] !== lr.shape[0] || (i === 0 && y.shape[3] !== 3));
  if (bad) {
    const shape = bad.shape;
    const which = bad === output ? 'a prediction' : 'a feature';
    tf.dispose(outs);
    throw new ShapeError(`${engine} teacher returned ${which} of [${shape.join(', ')}] for an input of [${lr.shape.join(', ')}]; expected [N, H·s, W·s, 3] (prediction) and [N, h, w, C] (features)`);
  }
  if (!keepFeatures) tf.dispose(rest);
  return { output, features: keepFeatures ? rest : [] };
}

/** The smooth probe image of the ONNX parity check (see {@link prepareTeacher}). */
function probeImage(): tf.Tensor4D {
  // A smooth image, not noise: attention teachers (EMT) have peaked softmaxes that amplify float rounding on noise
  // until two correct implementations disagree.
  return tf.tidy(() => {
    const yy = tf.reshape(tf.linspace(0, 1, 24), [24, 1, 1]);
    const xx = tf.reshape(tf.linspace(0, 1, 24), [1, 24, 1]);
    const phase = tf.reshape(tf.tensor1d([0, 1, 2]), [1, 1, 3]);
    return tf.expandDims(tf.add(tf.mul(tf.sin(tf.add(tf.mul(tf.add(yy, tf.mul(xx, 0.7)), 7), phase)), 0.4), 0.5), 0) as tf.Tensor4D;
  });
}

/**
 * Prepares a teacher for inference. A layers model goes through ONNX Runtime (exported on the fly by
 * `createOnnxRunner`) when `runtime` is `'auto'`, onnxruntime is installed, every layer exports, and every ONNX output
 * matches TF.js on a probe patch (the prediction within 2e-3; each tap feature within 2e-3 of its largest magnitude);
 * otherwise TF.js on the active backend. `'onnx'` makes ONNX Runtime mandatory. With `opts.taps`, the teacher is run
 * as its tapped view (`tapModel`): one pass gives the prediction and the features.
 *
 * @throws ConfigError for taps on a function teacher or a tap that names no layer; ShapeError (with `'onnx'`) when
 * the export differs from TF.js.
 * @example
 * ```ts
 * const t = await prepareTeacher(buildTeacher({ scale: 2 }), 'auto'); // t.runtime === 'onnx' in Node with onnxruntime-node
 * const emt = await prepareTeacher(await loadPretrainedTeacher('emt-x4'), 'auto', { taps: ['body.1', 'body.3', 'body.5'] });
 * ```
 */
export async function prepareTeacher(t: Teacher, runtime: TeacherRuntime = 'auto', opts: PrepareTeacherOptions = {}): Promise<PreparedTeacher> {
  const taps = opts.taps ? [...opts.taps] : [];
  if (opts.taps !== undefined) {
    if (!isLayersModel(t)) throw new ConfigError('feature taps need a layers-model teacher (its intermediate layers); a function teacher gives only its prediction');
    if (taps.length === 0) throw new ConfigError('taps must name at least one layer of the teacher (or be left out)');
  }
  if (!isLayersModel(t)) {
    const run = (lr: tf.Tensor4D) => runTeacher(t, lr);
    return { runtime: 'function', taps, run, runWithFeatures: async (lr) => ({ output: await run(lr), features: [] }), dispose: async () => undefined };
  }
  const model = taps.length > 0 ? tapModel(t, taps) : t;
  const keep = taps.length > 0;
  const viaTfjs = async (lr: tf.Tensor4D): Promise<TeacherOutputs> => {
    const outs = tf.tidy(() => {
      const y = model.predict(lr) as tf.Tensor4D | tf.Tensor4D[];
      return Array.isArray(y) ? y : [y];
    });
    return splitOutputs(outs, lr, keep, 'TF.js');
  };
  const tfjsTeacher = (fallbackReason?: string): PreparedTeacher => ({
    runtime: 'tfjs',
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
    taps,
    run: keep ? async (lr) => firstOnly(await viaTfjs(lr)) : (lr) => runTeacher(t, lr),
    runWithFeatures: viaTfjs,
    dispose: async () => undefined,
  });
  const policy = onnxPolicy(runtime);
  if (policy === 'never') return tfjsTeacher();
  try {
    const { createOnnxRunner } = await import('../backends/onnx-runner');
    const runner = await createOnnxRunner(model, { threads: opts.threads });
    const viaOnnx = async (lr: tf.Tensor4D): Promise<TeacherOutputs> => splitOutputs(await runner.runTensors(lr), lr, keep, 'ONNX');
    // Guard against an export that runs but computes something else: compare every output with TF.js on a probe.
    try {
      await checkParity(viaOnnx, viaTfjs, taps);
    } catch (e) {
      await runner.dispose();
      throw e;
    }
    return {
      runtime: 'onnx',
      taps,
      run: async (lr) => firstOnly(await viaOnnx(lr)),
      runWithFeatures: viaOnnx,
      dispose: () => runner.dispose(),
    };
  } catch (e) {
    if (policy === 'required') throw e;
    return tfjsTeacher((e as Error).message.split('\n')[0]);
  }
}

/**
 * Runs both engines on the probe image and throws a ShapeError naming the first output that differs: the prediction
 * by more than 2e-3, a feature by more than 2e-3 of its largest magnitude (features are not bounded like pixels).
 */
async function checkParity(onnx: (lr: tf.Tensor4D) => Promise<TeacherOutputs>, tfjs: (lr: tf.Tensor4D) => Promise<TeacherOutputs>, taps: string[]): Promise<void> {
  const probe = probeImage();
  const held: tf.Tensor[] = [];
  try {
    const a = await onnx(probe);
    held.push(a.output, ...a.features);
    const b = await tfjs(probe);
    held.push(b.output, ...b.features);
    const names = ['prediction', ...taps.map((n) => `feature "${n}"`)];
    const pairs: [tf.Tensor, tf.Tensor][] = [[a.output, b.output], ...a.features.map((f, i): [tf.Tensor, tf.Tensor] => [f, b.features[i]])];
    pairs.forEach(([x, y], i) => {
      const { diff, scale } = maxAbsDiff(x, y);
      const tolerance = 2e-3 * (i === 0 ? 1 : Math.max(1, scale));
      if (!(diff <= tolerance)) throw new ShapeError(`the ONNX export of the teacher differs from TF.js by ${diff} on a probe patch (${names[i]}; tolerance ${tolerance})`);
    });
  } finally {
    tf.dispose([probe, ...held]);
  }
}

/** The prediction of a {@link TeacherOutputs}, disposing its features. */
function firstOnly(o: TeacherOutputs): tf.Tensor4D {
  tf.dispose(o.features);
  return o.output;
}
