/**
 * Feature distillation: intermediate student features are pulled towards the teacher's.
 *
 * Student tap `i` is paired with teacher tap `round(i·(T−1)/(S−1))` (evenly spread when the counts differ). The teacher
 * feature is resized to the student feature's height and width (bilinear; no gradient is needed through it) and,
 * when the channel counts differ, the student feature goes through a learnable 1×1 convolution (a matrix product
 * over channels) to the teacher's channel count. Each pair contributes a normalised MSE,
 * `mean((A(s) − t)²) / (mean(t²) + ε)`, so layers of different magnitudes weigh alike; the loss is their mean.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { Rng } from '../core/rng';

let nextId = 0;

/**
 * The learnable 1×1 adapters of feature distillation (one per tap pair whose channel counts differ).
 * Their variables train with the student; call `dispose()` when done.
 *
 * @example
 * ```ts
 * const adapters = createFeatureAdapters([16, 16], [64, 128, 256], { seed: 1 });
 * const loss = featureKdLoss(studentFeats, teacherFeats, adapters);
 * adapters.dispose();
 * ```
 */
export class FeatureAdapters {
  /** Teacher tap index for each student tap. */
  readonly pairs: number[];
  /** 1×1 kernels `[Cs, Ct]` (null where channel counts match). */
  readonly kernels: (tf.Variable | null)[];

  constructor(
    readonly studentChannels: number[],
    readonly teacherChannels: number[],
    seed = 0,
  ) {
    if (studentChannels.length === 0 || teacherChannels.length === 0) throw new ShapeError('feature distillation needs at least one student tap and one teacher tap');
    const S = studentChannels.length;
    const T = teacherChannels.length;
    this.pairs = studentChannels.map((_, i) => (S === 1 ? T - 1 : Math.round((i * (T - 1)) / (S - 1))));
    const rng = new Rng(seed);
    this.kernels = studentChannels.map((cs, i) => {
      const ct = teacherChannels[this.pairs[i]];
      if (cs === ct) return null;
      // Glorot-uniform init, seeded.
      const lim = Math.sqrt(6 / (cs + ct));
      const w = Float32Array.from({ length: cs * ct }, () => rng.uniform(-lim, lim));
      const init = tf.tensor2d(w, [cs, ct]);
      const v = tf.variable(init, true, `kd_adapter_${nextId++}_${i}`);
      init.dispose();
      return v;
    });
  }

  /** The trainable variables (for the optimizer and checkpoints). */
  get variables(): tf.Variable[] {
    return this.kernels.filter((k): k is tf.Variable => k !== null);
  }

  /** Maps a student feature `[N, H, W, Cs]` through adapter `i`. */
  adapt(i: number, x: tf.Tensor4D): tf.Tensor4D {
    const k = this.kernels[i];
    if (!k) return x;
    const [n, h, w, c] = x.shape;
    return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, c]), k), [n, h, w, k.shape[1] as number]) as tf.Tensor4D);
  }

  dispose(): void {
    for (const k of this.kernels) k?.dispose();
  }
}

/**
 * Creates {@link FeatureAdapters} for student and teacher taps with the given channel counts.
 *
 * @example
 * ```ts
 * const adapters = createFeatureAdapters([24, 24, 24], [32, 64], { seed: 7 });
 * ```
 */
export function createFeatureAdapters(studentChannels: number[], teacherChannels: number[], opts: { seed?: number } = {}): FeatureAdapters {
  return new FeatureAdapters(studentChannels, teacherChannels, opts.seed ?? 0);
}

/**
 * Feature-distillation loss (see the module doc). `student` and `teacher` are the tap outputs, in order.
 *
 * @example
 * ```ts
 * const [sr, ...sFeats] = tappedStudent.apply(lr) as tf.Tensor4D[];
 * const loss = featureKdLoss(sFeats, tFeats, adapters);
 * ```
 */
export function featureKdLoss(student: tf.Tensor4D[], teacher: tf.Tensor4D[], adapters: FeatureAdapters): tf.Scalar {
  if (student.length !== adapters.studentChannels.length || teacher.length !== adapters.teacherChannels.length) {
    throw new ShapeError(`feature taps do not match the adapters: ${student.length}/${teacher.length} tensors for ${adapters.studentChannels.length}/${adapters.teacherChannels.length} taps`);
  }
  return tf.tidy(() => {
    const terms = student.map((s, i) => {
      if (s.shape[3] !== adapters.studentChannels[i]) throw new ShapeError(`student tap ${i} has ${s.shape[3]} channels, adapters expect ${adapters.studentChannels[i]}`);
      let t = teacher[adapters.pairs[i]];
      if (t.shape[1] !== s.shape[1] || t.shape[2] !== s.shape[2]) t = tf.image.resizeBilinear(t, [s.shape[1], s.shape[2]]);
      const a = adapters.adapt(i, s);
      return tf.div(tf.mean(tf.squaredDifference(a, t)), tf.add(tf.mean(tf.square(t)), 1e-6));
    });
    return tf.mean(tf.stack(terms)) as tf.Scalar;
  });
}
