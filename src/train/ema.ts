/** Exponential moving average of weights (Polyak averaging), often a free PSNR gain for small SR nets. */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';

/**
 * Shadow copies of variables updated as `ema = d·ema + (1 − d)·w`, with `d = min(decay, (1 + t) / (10 + t))` so that
 * early averages are not dominated by the initial weights. `swap()` exchanges the shadows and the live weights (for
 * validation or export); calling it again swaps back. Stateful handle: `dispose()` frees the shadows.
 *
 * @example
 * ```ts
 * const ema = new WeightEma(model.weights.map((w) => w.read() as tf.Variable), 0.999);
 * ema.update(); // after each optimizer step
 * ema.swap(); await validate(); ema.swap();
 * ```
 */
export class WeightEma {
  /** Updates so far. */
  count = 0;
  private readonly shadows: tf.Variable[];

  constructor(
    readonly vars: tf.Variable[],
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new ConfigError(`EMA decay must be in (0, 1), e.g. 0.999; got ${decay}`);
    this.shadows = vars.map((v) => {
      const c = v.clone();
      const s = tf.variable(c, false);
      c.dispose(); // the variable holds its own reference
      return s;
    });
  }

  update(): void {
    this.count++;
    const d = Math.min(this.decay, (1 + this.count) / (10 + this.count));
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) this.shadows[i].assign(tf.add(tf.mul(this.shadows[i], d), tf.mul(this.vars[i], 1 - d)));
    });
  }

  /** Exchanges live weights and averages. */
  swap(): void {
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const live = this.vars[i].clone();
        this.vars[i].assign(this.shadows[i]);
        this.shadows[i].assign(live);
      }
    });
  }

  /** The averaged weights as float32 arrays. */
  getState(): { count: number; values: Float32Array[] } {
    return { count: this.count, values: this.shadows.map((s) => s.dataSync() as Float32Array) };
  }

  setState(s: { count: number; values: Float32Array[] }): void {
    if (s.values.length !== this.shadows.length) throw new ConfigError(`EMA state has ${s.values.length} tensors, the model ${this.shadows.length}`);
    this.count = s.count;
    tf.tidy(() => this.shadows.forEach((x, i) => x.assign(tf.tensor(s.values[i], x.shape))));
  }

  dispose(): void {
    for (const s of this.shadows) s.dispose();
  }
}
