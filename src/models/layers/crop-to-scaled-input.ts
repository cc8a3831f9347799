/**
 * Crops the top-left `[H*s, W*s]` of an NHWC batch, where `[H, W]` is the size of a reference input:
 * undoes {@link PadToMultiple} after upscaling by `s`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Constructor arguments of {@link CropToScaledInput}.
 *
 * @example
 * ```ts
 * const crop = new CropToScaledInput({ scale: 2 } satisfies CropToScaledInputArgs); // apply([output, input]) -> [N, 2H, 2W, C]
 * ```
 */
export interface CropToScaledInputArgs {
  scale: number;
  name?: string;
}

/**
 * Keras layer with two inputs `[y, reference]`: returns `y[:, :H*s, :W*s, :]` for `reference` of size `H x W`.
 *
 * @example
 * ```ts
 * const out = new CropToScaledInput({ scale: 4 }).apply([paddedOutput, input]);
 * ```
 */
export class CropToScaledInput extends tfl.layers.Layer {
  static className = 'CropToScaledInput';
  readonly scale: number;

  constructor(args: CropToScaledInputArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.scale) || args.scale < 1) throw new Error(`CropToScaledInput scale must be a positive integer, got ${args.scale}`);
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [y, ref] = inputShape as Shape[];
    const s = this.scale;
    return [y[0], ref[1] == null ? null : ref[1] * s, ref[2] == null ? null : ref[2] * s, y[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [y, ref] = inputs as tf.Tensor4D[];
      const h = ref.shape[1] * this.scale;
      const w = ref.shape[2] * this.scale;
      if (y.shape[1] === h && y.shape[2] === w) return y.clone();
      return tf.slice(y, [0, 0, 0, 0], [-1, h, w, -1]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(CropToScaledInput);
