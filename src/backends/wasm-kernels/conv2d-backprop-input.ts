/**
 * Fast `Conv2DBackpropInput` for the wasm backend (replaces tfjs-backend-wasm's naive loop).
 *
 * `dx` is a convolution of `dy` with the filter flipped in both spatial dimensions and with its in/out
 * channels swapped; strided convolutions split into one dense XNNPACK convolution per output phase
 * (see `transposed-conv.ts`); filters with fewer than 8 input channels use a 1x1 conv + scatter-add
 * instead (`col2im.ts`). This kernel is also the forward pass of `tf.conv2dTranspose`.
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './kernel-scope';
import { inputGradByCol2im, preferCol2im } from './col2im';
import { inputGradByConv } from './transposed-conv';

/** Kernel function registered as `Conv2DBackpropInput` on `wasm`. */
export const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  return withScope(backend as KernelBackend, (s) => {
    const nchw = dataFormat === 'NCHW';
    const dyh = nchw ? s.transpose(dy, [0, 2, 3, 1]) : dy;
    const [b, c, h, w] = inputShape;
    const inShape: [number, number, number, number] = nchw ? [b, h, w, c] : inputShape;
    const pad4 = nchw && Array.isArray(pad) ? [pad[0], pad[2], pad[3], pad[1]] : pad;
    const info = backend_util.computeConv2DInfo(
      inShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad4 as typeof pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    if (info.outHeight !== dyh.shape[1] || info.outWidth !== dyh.shape[2] || info.outChannels !== dyh.shape[3]) {
      throw new Error(`Conv2DBackpropInput: dy is ${dyh.shape} but the convolution of ${inShape} gives ${info.outShape}.`);
    }
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    if (preferCol2im(filter.shape)) {
      const dx = inputGradByCol2im(s, dyh, filter, inShape, [sh, sw], info.padInfo.top, info.padInfo.left);
      return nchw ? s.transpose(dx, [0, 3, 1, 2]) : dx;
    }
    // [KH, KW, Ci, Co] -> flipped spatially, [KH, KW, Co, Ci]
    const flipped = s.flipFilter(filter);
    const dx = inputGradByConv(
      s,
      dyh,
      flipped,
      { outShape: inShape, strides: [sh, sw], padTop: info.padInfo.top, padLeft: info.padInfo.left },
      (x, f, p) => s.conv2d(x, f, p),
    );
    return nchw ? s.transpose(dx, [0, 3, 1, 2]) : dx;
  });
};

/** Kernel config: `Conv2DBackpropInput` on `wasm` by XNNPACK convolutions. */
export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
