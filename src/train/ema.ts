/** Exponential moving average of weights (Polyak averaging), often a free PSNR gain for small SR nets. */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';

/**
 * Shadow copies of variables updated as `ema = d·ema + (1 − d)·w`, with `d = min(decay, (1 + t) / (10 + t))` so that
 * early averages are not dominated by the initial weights. `swap()` exchanges the shadows and the live weights (for
 * validation or export); calling it again swaps back. Stateful handle: `dispose()` frees the shadows. On the cpu and
 * wasm backends the shadows are plain arrays updated in one loop per variable (as `Adam` does); elsewhere they are
 * variables updated with tensor ops.
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
  /** Where the shadows live: `'host'` (plain arrays; cpu and wasm backends) or `'device'` (variables). */
  readonly engine: 'host' | 'device';
  private readonly shadows: tf.Variable[] = [];
  private readonly host: Float32Array[] = [];

  constructor(
    readonly vars: tf.Variable[],
    readonly decay: number,
    opts: { engine?: 'host' | 'device' } = {},
  ) {
    if (!(decay > 0 && decay < 1)) throw new ConfigError(`EMA decay must be in (0, 1), e.g. 0.999; got ${decay}`);
    this.engine = opts.engine ?? (['cpu', 'wasm'].includes(tf.getBackend()) && vars.every((v) => v.dtype === 'float32') ? 'host' : 'device');
    if (this.engine === 'host') {
      this.host = vars.map((v) => (v.dataSync() as Float32Array).slice());
      return;
    }
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
    if (this.engine === 'host') {
      for (let i = 0; i < this.vars.length; i++) {
        const w = this.vars[i].dataSync() as Float32Array;
        const sh = this.host[i];
        for (let j = 0; j < sh.length; j++) sh[j] = d * sh[j] + (1 - d) * w[j];
      }
      return;
    }
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) this.shadows[i].assign(tf.add(tf.mul(this.shadows[i], d), tf.mul(this.vars[i], 1 - d)));
    });
  }

  /** Exchanges live weights and averages. */
  swap(): void {
    if (this.engine === 'host') {
      for (let i = 0; i < this.vars.length; i++) {
        const live = (this.vars[i].dataSync() as Float32Array).slice();
        const avg = tf.tensor(this.host[i], this.vars[i].shape, 'float32');
        this.vars[i].assign(avg);
        avg.dispose();
        this.host[i] = live;
      }
      return;
    }
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
    if (this.engine === 'host') return { count: this.count, values: this.host.map((x) => x.slice()) };
    return { count: this.count, values: this.shadows.map((s) => s.dataSync() as Float32Array) };
  }

  setState(s: { count: number; values: Float32Array[] }): void {
    const n = this.vars.length;
    if (s.values.length !== n) throw new ConfigError(`EMA state has ${s.values.length} tensors, the model ${n}`);
    s.values.forEach((x, i) => {
      if (x.length !== this.vars[i].size) throw new ConfigError(`EMA state tensor ${i} has ${x.length} values, the variable ${this.vars[i].size}`);
    });
    this.count = s.count;
    if (this.engine === 'host') {
      s.values.forEach((x, i) => this.host[i].set(x));
      return;
    }
    tf.tidy(() => this.shadows.forEach((x, i) => x.assign(tf.tensor(s.values[i], x.shape))));
  }

  dispose(): void {
    for (const s of this.shadows) s.dispose();
  }
}
