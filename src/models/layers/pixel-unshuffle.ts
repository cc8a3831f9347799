/**
 * Pixel unshuffle (space-to-depth), the inverse of {@link PixelShuffle}: rearranges `[N, H, W, C]` into
 * `[N, H/r, W/r, C*r*r]`, input pixel `(h*r + i, w*r + j)` channel `c` going to channel `(i*r + j)*C + c`
 * (TensorFlow's `spaceToDepth` ordering, which is ONNX `SpaceToDepth`). Real-ESRGAN puts it in front of its ×2
 * and ×1 nets so that their bodies run at a quarter (or a sixteenth) of the pixels.
 *
 * tfjs-core has no `spaceToDepth`; this is a reshape, a 4-D transpose and a reshape, so the gradient comes
 * from theirs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Constructor arguments of {@link PixelUnshuffle}.
 *
 * @example
 * ```ts
 * const unshuffle = new PixelUnshuffle({ factor: 2 } satisfies PixelUnshuffleArgs); // [N, 2H, 2W, 3] -> [N, H, W, 12]
 * ```
 */
export interface PixelUnshuffleArgs {
  /** Downscaling factor r (block size), >= 2. Height and width must be multiples of it. */
  factor: number;
  /** Layer name. */
  name?: string;
}

/**
 * @internal Space-to-depth of a `[N, H, W, C]` tensor (H and W multiples of `r`): `[N, H/r, W/r, C*r*r]`.
 *
 * @example
 * ```ts
 * const y = spaceToDepth(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, 2); // [1, 4, 4, 12]
 * ```
 */
export function spaceToDepth(x: tf.Tensor4D, r: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    if (h % r !== 0 || w % r !== 0) throw new Error(`PixelUnshuffle(${r}) needs height and width divisible by ${r}, got ${h}x${w}`);
    // [N, H, W, C] -> [N·H/r, r, W/r, r·C]: row offset i on axis 1, (column offset j, channel c) on axis 3.
    const rows = tf.reshape(x, [n * (h / r), r, w / r, r * c]);
    // -> [N·H/r, W/r, r, r·C]: (i, j, c) adjacent, in that order.
    const moved = tf.transpose(rows, [0, 2, 1, 3]);
    return tf.reshape(moved, [n, h / r, w / r, r * r * c]);
  });
}

/**
 * Keras layer: `[N, H, W, C]` -> `[N, H/r, W/r, C*r*r]` (space-to-depth, NHWC). Put a `PadToMultiple` before it
 * when the input size is arbitrary.
 *
 * @example
 * ```ts
 * const low = new PixelUnshuffle({ factor: 2 }).apply(padded) as tfl.SymbolicTensor; // 3 ch -> 12 ch, half size
 * ```
 */
export class PixelUnshuffle extends tfl.layers.Layer {
  static className = 'PixelUnshuffle';
  readonly factor: number;

  constructor(args: PixelUnshuffleArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.factor) || args.factor < 2) throw new Error(`PixelUnshuffle factor must be an integer >= 2, got ${args.factor}`);
    this.factor = args.factor;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const r = this.factor;
    const down = (n: number | null) => (n == null ? null : Math.floor(n / r));
    return [s[0], down(s[1]), down(s[2]), s[3] == null ? null : s[3] * r * r];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return spaceToDepth(x, this.factor);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}
tf.serialization.registerClass(PixelUnshuffle);
