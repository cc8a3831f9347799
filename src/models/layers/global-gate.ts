/**
 * Channel gates computed from the whole input: a squeeze-and-excitation step (Hu et al. 2018) with one linear map.
 *
 *   y = x · 2σ(mean_HW(x) · W + b)        one gate per channel and image, in (0, 2); W = 0, b = 0 at the start (y = x)
 *
 * A 3×3 net sees a few dozen pixels around each output pixel. Where those hold no edge (sky, skin, a smooth
 * background) it cannot tell how blurred or noisy the image is, and a blind sharpener trained on many degradations
 * hedges there. A classical blind method pools its blur estimate over the whole image; these gates give the net the
 * same: each image's mean features (what its degradation looks like over all its edges and flat parts) rescale the
 * channels of the layer, for every pixel alike.
 *
 * The gate depends on the whole input it is applied to, so a tiled run gives each tile its own gates (tiles are large
 * enough for the mean to settle, which is what a classical estimate assumes too).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Constructor arguments of {@link GlobalGate}.
 *
 * @example
 * ```ts
 * const gated = new GlobalGate({ name: 'body3_gate' } satisfies GlobalGateArgs).apply(features);
 * ```
 */
export interface GlobalGateArgs {
  name?: string;
}

/**
 * Keras layer `y = x · 2σ(mean_HW(x)·W + b)` (NHWC, W: C×C, b: C); see the file comment. `buildStudent({ globalGates:
 * true })` places them in a compact net; on its own it gates any feature map.
 *
 * @example
 * ```ts
 * const features = tfl.input({ shape: [null, null, 16] });
 * const gated = new GlobalGate({ name: 'gate' }).apply(features) as tfl.SymbolicTensor; // same shape, rescaled channels
 * ```
 */
export class GlobalGate extends tfl.layers.Layer {
  static className = 'GlobalGate';
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;

  constructor(args: GlobalGateArgs = {}) {
    super({ name: args.name });
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = shape[shape.length - 1];
    if (c == null) throw new Error(`GlobalGate ${this.name}: the channel count must be known`);
    this.kernel = this.addWeight('kernel', [c, c], 'float32', tfl.initializers.zeros());
    this.bias = this.addWeight('bias', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const c = x.shape[3];
      const mean = tf.mean(x, [1, 2]) as tf.Tensor2D;
      const gate = tf.mul(tf.sigmoid(tf.add(tf.matMul(mean, this.kernel!.read() as tf.Tensor2D), this.bias!.read())), 2);
      return tf.mul(x, tf.reshape(gate, [-1, 1, 1, c]));
    });
  }
}
tf.serialization.registerClass(GlobalGate);
