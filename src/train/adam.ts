/**
 * Adam (Kingma & Ba) with a per-step learning rate, global-norm gradient clipping and a state that can be saved
 * and restored exactly (moments as float32, step count), for checkpoints and resume.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';

/**
 * Adam hyper-parameters.
 *
 * @example
 * ```ts
 * const o: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
 * ```
 */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

function zerosVariable(x: tf.Tensor): tf.Variable {
  const z = tf.zerosLike(x);
  const v = tf.variable(z, false);
  z.dispose(); // the variable holds its own reference to the data
  return v;
}

/**
 * An Adam optimizer over a fixed list of variables. Stateful: holds the moment estimates; `dispose()` frees them.
 *
 * @example
 * ```ts
 * const adam = new Adam(vars);
 * adam.apply(grads, 1e-3); // grads[i] matches vars[i]
 * const saved = adam.getState(); adam.setState(saved);
 * adam.dispose();
 * ```
 */
export class Adam {
  /** Updates applied so far. */
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;

  constructor(
    readonly vars: tf.Variable[],
    opts: AdamOptions = {},
  ) {
    this.b1 = opts.beta1 ?? 0.9;
    this.b2 = opts.beta2 ?? 0.999;
    this.eps = opts.epsilon ?? 1e-8;
    if (!(this.b1 >= 0 && this.b1 < 1 && this.b2 >= 0 && this.b2 < 1 && this.eps > 0)) throw new ConfigError('Adam needs 0 <= beta1, beta2 < 1 and epsilon > 0');
    this.m = vars.map(zerosVariable);
    this.v = vars.map(zerosVariable);
  }

  /** Applies one update with learning rate `lr`; `grads[i]` is the gradient of `vars[i]` (not disposed). */
  apply(grads: tf.Tensor[], lr: number): void {
    this.step++;
    const t = this.step;
    const lrT = (lr * Math.sqrt(1 - this.b2 ** t)) / (1 - this.b1 ** t);
    const epsT = this.eps * Math.sqrt(1 - this.b2 ** t);
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], this.b1), tf.mul(g, 1 - this.b1));
        const v = tf.add(tf.mul(this.v[i], this.b2), tf.mul(tf.square(g), 1 - this.b2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        this.vars[i].assign(tf.sub(this.vars[i], tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsT)), lrT)));
      }
    });
  }

  /** Moments and step as plain arrays (float32), JSON/binary serialisable. */
  getState(): { step: number; m: Float32Array[]; v: Float32Array[] } {
    return { step: this.step, m: this.m.map((x) => x.dataSync() as Float32Array), v: this.v.map((x) => x.dataSync() as Float32Array) };
  }

  /** Restores {@link Adam.getState}. */
  setState(s: { step: number; m: Float32Array[]; v: Float32Array[] }): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) throw new ConfigError(`optimizer state has ${s.m.length} tensors, the model ${this.m.length}`);
    this.step = s.step;
    tf.tidy(() => {
      this.m.forEach((x, i) => x.assign(tf.tensor(s.m[i], x.shape)));
      this.v.forEach((x, i) => x.assign(tf.tensor(s.v[i], x.shape)));
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Global L2 norm of a list of gradients, as a scalar tensor.
 *
 * @example
 * ```ts
 * const n = globalNorm(grads);
 * ```
 */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}
