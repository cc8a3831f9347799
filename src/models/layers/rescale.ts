/** Affine rescaling `y = x * scale + offset`, used to adapt value ranges (e.g. [0,1] <-> [0,255]). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Constructor arguments of {@link Rescale}.
 *
 * @example
 * ```ts
 * const to255 = new Rescale({ scale: 255 } satisfies RescaleArgs); // [0, 1] -> [0, 255]
 * ```
 */
export interface RescaleArgs {
  scale: number;
  offset?: number;
  name?: string;
}

/**
 * Keras layer computing `x * scale + offset` (no weights).
 *
 * @example
 * ```ts
 * const to255 = new Rescale({ scale: 255 }).apply(input);
 * ```
 */
export class Rescale extends tfl.layers.Layer {
  static className = 'Rescale';
  readonly scale: number;
  readonly offset: number;

  constructor(args: RescaleArgs) {
    super({ name: args.name });
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const y = this.scale === 1 ? x.clone() : tf.mul(x, this.scale);
      return this.offset === 0 ? y : tf.add(y, this.offset);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}
tf.serialization.registerClass(Rescale);
