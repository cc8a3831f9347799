/**
 * Pixel shuffle (sub-pixel convolution, Shi et al. 2016): rearranges `[N, H, W, C*r*r]` into
 * `[N, H*r, W*r, C]` with TensorFlow's `depthToSpace` ordering (channel `(i*r + j)*C + c` goes to
 * output pixel `(h*r + i, w*r + j)`), which is ONNX `DepthToSpace` in `DCR` mode.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';
// tfjs-core has no DepthToSpace gradient; this registers it (side effect) so that models train.
import '../../backends/wasm-kernels/depth-to-space-grad';

/**
 * Constructor arguments of {@link PixelShuffle}.
 *
 * @example
 * ```ts
 * const shuffle = new PixelShuffle({ scale: 2 } satisfies PixelShuffleArgs); // [N, H, W, 12] -> [N, 2H, 2W, 3]
 * ```
 */
export interface PixelShuffleArgs {
  /** Upscaling factor r (block size), >= 2. */
  scale: number;
  /** Layer name. */
  name?: string;
}

/**
 * Keras layer: `[N, H, W, C*r*r]` -> `[N, H*r, W*r, C]` (TF `depthToSpace`, NHWC).
 *
 * @example
 * ```ts
 * const y = new PixelShuffle({ scale: 4 }).apply(features) as tfl.SymbolicTensor; // 48 ch -> 3 ch, x4 size
 * ```
 */
export class PixelShuffle extends tfl.layers.Layer {
  static className = 'PixelShuffle';
  readonly scale: number;

  constructor(args: PixelShuffleArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.scale) || args.scale < 2) throw new Error(`PixelShuffle scale must be an integer >= 2, got ${args.scale}`);
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const r = this.scale;
    const c = s[3];
    if (c != null && c % (r * r) !== 0) throw new Error(`PixelShuffle(${r}) needs channels divisible by ${r * r}, got ${c}`);
    return [s[0], s[1] == null ? null : s[1] * r, s[2] == null ? null : s[2] * r, c == null ? null : c / (r * r)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.depthToSpace(x, this.scale, 'NHWC');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(PixelShuffle);
