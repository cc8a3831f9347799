/**
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput` for the wasm backend,
 * which has neither (tfjs-backend-wasm 4.22), built on its XNNPACK depthwise convolution.
 *
 * With channel multiplier M, output channel `c*M + m` of a depthwise conv reads input channel c through
 * filter `w[:, :, c, m]`.
 *
 * - Input gradient: `dy` (C*M channels) convolved depthwise with the spatially flipped filter taken as
 *   `[KH, KW, C*M, 1]`, split into stride phases like the dense case (`transposed-conv.ts`), then summed over m.
 * - Filter gradient: per channel, a correlation of `x` with `dy` over batch and space. Taking the batch as
 *   channels makes it ONE depthwise conv: input `x` as `[1, H, W, C*B]` (channel `c*B + b`), filter `dy` as
 *   `[OH, OW, C*B, M]`, stride d and dilation s; its `[1, KH, KW, C*B*M]` output summed over b is `dw`.
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './kernel-scope';
import { dilateFilter, inputGradByConv } from './transposed-conv';

interface DepthwiseBackpropAttrs {
  strides: [number, number] | number;
  dilations?: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function depthwiseInfo(xShape: number[], filterShape: number[], a: DepthwiseBackpropAttrs) {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  );
}

function checkDy(kernel: string, dy: TensorInfo, info: backend_util.Conv2DInfo): void {
  const [, oh, ow, oc] = dy.shape;
  if (oh !== info.outHeight || ow !== info.outWidth || oc !== info.outChannels) {
    throw new Error(`${kernel}: dy is ${dy.shape} but the depthwise convolution gives ${info.outShape}.`);
  }
}

/** Kernel function registered as `DepthwiseConv2dNativeBackpropInput` on `wasm`. */
export const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DepthwiseBackpropAttrs & { inputShape: [number, number, number, number] };
  return withScope(backend as KernelBackend, (s) => {
    const info = depthwiseInfo(a.inputShape, filter.shape, a);
    checkDy('DepthwiseConv2dNativeBackpropInput', dy, info);
    const [kh, kw, c, m] = filter.shape;
    const [b, h, w] = a.inputShape;
    const reversed = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const flipped = dilateFilter(s, s.reshape(reversed, [kh, kw, c * m, 1]), info.dilationHeight, info.dilationWidth);
    const dx = inputGradByConv(
      s,
      dy,
      flipped,
      { outShape: [b, h, w, c * m], strides: [info.strideHeight, info.strideWidth], padTop: info.padInfo.top, padLeft: info.padInfo.left },
      (x, f, p) => s.depthwiseConv2d(x, f, p),
    );
    if (m === 1) return dx;
    return s.run('Sum', { x: s.reshape(dx, [b, h, w, c, m]) }, { axis: [4], keepDims: false });
  });
};

/** Kernel function registered as `DepthwiseConv2dNativeBackpropFilter` on `wasm`. */
export const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DepthwiseBackpropAttrs & { filterShape: [number, number, number, number] };
  return withScope(backend as KernelBackend, (s) => {
    const info = depthwiseInfo(x.shape, a.filterShape, a);
    checkDy('DepthwiseConv2dNativeBackpropFilter', dy, info);
    const [kh, kw, c, m] = a.filterShape;
    const [b, inH, inW] = x.shape;
    const [, outH, outW] = dy.shape;
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const [dh, dw] = [info.dilationHeight, info.dilationWidth];
    const needH = (kh - 1) * dh + (outH - 1) * sh + 1;
    const needW = (kw - 1) * dw + (outW - 1) * sw + 1;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    // x: [B, H, W, C] -> [1, H, W, C*B]; dy: [B, OH, OW, C*M] -> [OH, OW, C*B, M]
    const xt = s.reshape(s.transpose(x, [1, 2, 3, 0]), [1, inH, inW, c * b]);
    const dyt =
      m === 1
        ? s.reshape(s.transpose(dy, [1, 2, 3, 0]), [outH, outW, c * b, 1])
        : s.reshape(s.transpose(s.reshape(dy, [b, outH * outW, c, m]), [1, 2, 0, 3]), [outH, outW, c * b, m]);
    const out = s.depthwiseConv2d(xt, dyt, {
      strides: [dh, dw],
      dilations: [sh, sw],
      pads: [pt, Math.max(0, needH - pt - inH), pl, Math.max(0, needW - pl - inW)],
    }); // [1, KH', KW', C*B*M]
    const cropped = s.slice(out, [0, 0, 0, 0], [1, kh, kw, out.shape[3]]);
    const perBatch = s.reshape(cropped, [kh, kw, c, b, m]);
    return s.reshape(s.run('Sum', { x: perBatch }, { axis: [3], keepDims: false }), [kh, kw, c, m]);
  });
};

/** Kernel config: `DepthwiseConv2dNativeBackpropInput` on `wasm`. */
export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};

/** Kernel config: `DepthwiseConv2dNativeBackpropFilter` on `wasm`. */
export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
