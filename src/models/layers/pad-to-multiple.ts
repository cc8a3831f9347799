/**
 * Edge-pads the bottom and right of an NHWC batch so that H and W become multiples of `multiple`.
 * Encoder-decoder nets with k stride-2 stages need sizes divisible by 2^k; padding inside the model keeps
 * it usable on any image size (the output is cropped back by {@link CropToScaledInput}).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Constructor arguments of {@link PadToMultiple}.
 *
 * @example
 * ```ts
 * const pad = new PadToMultiple({ multiple: 8 } satisfies PadToMultipleArgs); // edge-pads H and W up to multiples of 8
 * ```
 */
export interface PadToMultipleArgs {
  multiple: number;
  name?: string;
}

/** Padding that brings `n` to the next multiple of `m`. */
export function padAmount(n: number, m: number): number {
  return (m - (n % m)) % m;
}

/**
 * Keras layer: `[N, H, W, C]` -> `[N, ceil(H/m)*m, ceil(W/m)*m, C]`, replicating the last row and column.
 *
 * @example
 * ```ts
 * const padded = new PadToMultiple({ multiple: 8 }).apply(input); // 37x50 -> 40x56
 * ```
 */
export class PadToMultiple extends tfl.layers.Layer {
  static className = 'PadToMultiple';
  readonly multiple: number;

  constructor(args: PadToMultipleArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.multiple) || args.multiple < 1) throw new Error(`PadToMultiple multiple must be a positive integer, got ${args.multiple}`);
    this.multiple = args.multiple;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    const m = this.multiple;
    const up = (n: number | null) => (n == null ? null : n + padAmount(n, m));
    return [s[0], up(s[1]), up(s[2]), s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const ph = padAmount(h, this.multiple);
      const pw = padAmount(w, this.multiple);
      if (ph > 0) x = tf.concat([x, tf.tile(tf.slice(x, [0, h - 1, 0, 0], [n, 1, w, c]), [1, ph, 1, 1])], 1);
      if (pw > 0) x = tf.concat([x, tf.tile(tf.slice(x, [0, 0, w - 1, 0], [n, h + ph, 1, c]), [1, 1, pw, 1])], 2);
      return ph === 0 && pw === 0 ? x.clone() : x;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), multiple: this.multiple };
  }
}
tf.serialization.registerClass(PadToMultiple);
