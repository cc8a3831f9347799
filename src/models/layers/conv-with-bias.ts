/**
 * A stride-1 'same' 3×3 (or any odd) convolution with a bias, as the backend's `FusedConv2D` kernel, whose gradient
 * computes only what the backward pass asks for.
 *
 * `tf.fused.conv2d` takes its gradient from a `customGrad`, which computes the gradients of the input, the filter
 * and the bias together, even where the input needs none: the first convolution of a network, whose input is the
 * batch. That input gradient costs as much as the layer's forward pass (`Conv2DBackpropInput` of `dy` with the
 * filter), and for a student with a pixel-unshuffle front end (48 input channels at ×1) as much as three body layers.
 *
 * Here the kernel is run directly and its gradient is registered for the kernel name: TF.js's backward pass then asks
 * each input for its gradient lazily, and only for inputs that depend on the trained variables. The kernels called,
 * and so the bits, are the ones `tf.fused.conv2d`'s gradient calls (`Conv2DBackpropInput`, `Conv2DBackpropFilter`,
 * `Sum` over N, H, W), so training is unchanged apart from the skipped work.
 */
import * as tf from '@tensorflow/tfjs-core';

type ConvAttrs = { strides: number | [number, number]; pad: 'same' | 'valid' | number; dataFormat: 'NHWC'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; activation?: string };

/**
 * Registers the gradient of the `FusedConv2D` kernel (linear activation, NHWC) unless one is registered already
 * (idempotent; importing this module does it).
 *
 * @example
 * ```ts
 * registerFusedConvGradient();
 * ```
 */
export function registerFusedConvGradient(): void {
  if (tf.getGradient('FusedConv2D') != null) return;
  tf.registerGradient({
    kernelName: 'FusedConv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = dy as tf.Tensor4D;
      const { strides, pad, dataFormat, dimRoundingMode, activation } = attrs as unknown as ConvAttrs;
      if ((activation ?? 'linear') !== 'linear') throw new Error(`the FusedConv2D gradient here supports the linear activation only, not ${activation}`);
      const common = { strides, pad, dataFormat, dimRoundingMode } as unknown as tf.NamedAttrMap;
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { ...common, inputShape: x.shape }) as tf.Tensor4D,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, { ...common, filterShape: filter.shape }) as tf.Tensor4D,
        bias: () => tf.sum(g, [0, 1, 2]),
      };
    },
  });
}

registerFusedConvGradient();

/**
 * `x` (NHWC) convolved with `filter` `[kh, kw, C_in, C_out]` at stride 1 with 'same' padding, plus `bias` `[C_out]`:
 * the backend's `FusedConv2D` kernel, the same values as `tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'same' })`.
 * Under a gradient tape, the input's gradient is computed only when the input needs one (see the module doc).
 *
 * @example
 * ```ts
 * const y = convWithBias(x, kernel, bias);
 * ```
 */
export function convWithBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.engine().runKernel('FusedConv2D', { x, filter, bias }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear' }) as tf.Tensor4D;
}
