/** What `distill` accepts as a teacher, and how it is run and identified (for the teacher-output cache). */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, ShapeError } from '../errors';

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
 * Which engine runs a layers-model teacher: ONNX Runtime when installed (`'auto'`), or always/never.
 *
 * @example
 * ```ts
 * const rt: TeacherRuntime = 'tfjs';
 * ```
 */
export type TeacherRuntime = 'auto' | 'onnx' | 'tfjs';

/**
 * A prepared teacher: `run(lr)` gives the prediction (caller disposes it). `runtime` says which engine is used.
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
  run(lr: tf.Tensor4D): Promise<tf.Tensor4D>;
  dispose(): Promise<void>;
}

/**
 * Prepares a teacher for inference. A layers model goes through ONNX Runtime (exported on the fly by
 * `createOnnxRunner`) when `runtime` is `'auto'`, onnxruntime is installed, every layer exports, and the ONNX output
 * matches TF.js on a probe patch (within 2e-3); otherwise TF.js on the active backend. `'onnx'` makes ONNX Runtime
 * mandatory.
 *
 * @example
 * ```ts
 * const t = await prepareTeacher(buildTeacher({ scale: 2 }), 'auto'); // t.runtime === 'onnx' in Node with onnxruntime-node
 * ```
 */
export async function prepareTeacher(t: Teacher, runtime: TeacherRuntime = 'auto', opts: { threads?: number } = {}): Promise<PreparedTeacher> {
  if (!isLayersModel(t) || runtime === 'tfjs') {
    return { runtime: isLayersModel(t) ? 'tfjs' : 'function', run: (lr) => runTeacher(t, lr), dispose: async () => undefined };
  }
  try {
    const { createOnnxRunner } = await import('../backends/onnx-runner');
    const runner = await createOnnxRunner(t, { threads: opts.threads });
    // Guard against an export that runs but computes something else: compare with TF.js on a probe patch.
    // The probe is a smooth image, not noise: attention teachers (EMT) have peaked softmaxes that amplify float
    // rounding on noise until two correct implementations disagree.
    const probe = tf.tidy(() => {
      const yy = tf.reshape(tf.linspace(0, 1, 24), [24, 1, 1]);
      const xx = tf.reshape(tf.linspace(0, 1, 24), [1, 24, 1]);
      const phase = tf.reshape(tf.tensor1d([0, 1, 2]), [1, 1, 3]);
      return tf.expandDims(tf.add(tf.mul(tf.sin(tf.add(tf.mul(tf.add(yy, tf.mul(xx, 0.7)), 7), phase)), 0.4), 0.5), 0) as tf.Tensor4D;
    });
    try {
      const [a, b] = [await runner.runTensor(probe), await runTeacher(t, probe)];
      const diff = tf.tidy(() => (a.shape.join() === b.shape.join() ? tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] : Infinity));
      tf.dispose([a, b]);
      if (!(diff <= 2e-3)) {
        await runner.dispose();
        throw new ShapeError(`the ONNX export of the teacher differs from TF.js by ${diff} on a probe patch`);
      }
    } finally {
      probe.dispose();
    }
    return {
      runtime: 'onnx',
      run: async (lr) => {
        const y = await runner.runTensor(lr);
        if (y.rank !== 4 || y.shape[0] !== lr.shape[0] || y.shape[3] !== 3) {
          const shape = y.shape;
          y.dispose();
          throw new ShapeError(`ONNX teacher returned [${shape.join(', ')}] for [${lr.shape.join(', ')}]`);
        }
        return y;
      },
      dispose: () => runner.dispose(),
    };
  } catch (e) {
    if (runtime === 'onnx') throw e;
    const fallbackReason = (e as Error).message.split('\n')[0];
    return { runtime: 'tfjs', fallbackReason, run: (lr) => runTeacher(t, lr), dispose: async () => undefined };
  }
}
