/**
 * `Conv2DBackpropFilter` for the wasm backend, as ONE XNNPACK convolution (tfjs issue #8474).
 *
 * The filter gradient of `y = conv2d(x, w)` (NHWC, stride s, dilation d, pads top/left pt/pl) is
 *
 *     dw[kh, kw, ci, co] = sum_{b, oh, ow} x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, ci] * dy[b, oh, ow, co]
 *
 * which is itself a convolution once batch and channels swap roles: take `x` as `[Ci, H, W, B]`
 * (Ci images with B channels) and `dy` as a filter `[OH, OW, B, Co]`; convolve with stride d and dilation s.
 * The output `[Ci, KH, KW, Co]` transposed to `[KH, KW, Ci, Co]` is `dw`. Pads become the inner
 * convolution's explicit pads; input rows the forward pass never read make extra output rows, cropped here.
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelScope, withScope } from './kernel-scope';

/** Geometry of a filter-gradient correlation. */
export interface FilterGradGeometry {
  /** Filter height and width. */
  kh: number;
  kw: number;
  strides: [number, number];
  dilations: [number, number];
  /** Top and left pads of the forward pass (bottom/right follow from the shapes). */
  padTop: number;
  padLeft: number;
}

/**
 * `dw[kh, kw, ci, co] = sum x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, ci] * dy[b, oh, ow, co]` by one
 * XNNPACK convolution. `x` is `[B, H, W, Ci]`, `dy` is `[B, OH, OW, Co]`; returns `[KH, KW, Ci, Co]`.
 */
export function filterGradByConv(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const [, inH, inW] = x.shape;
  const [, outH, outW] = dy.shape;
  // Rows/cols the forward pass touched, measured from the first (possibly padding) row: the inner conv must
  // produce exactly KH x KW outputs plus, possibly, extra ones that are cropped.
  const needH = (g.kh - 1) * g.dilations[0] + (outH - 1) * g.strides[0] + 1;
  const needW = (g.kw - 1) * g.dilations[1] + (outW - 1) * g.strides[1] + 1;
  const padBottom = Math.max(0, needH - g.padTop - inH);
  const padRight = Math.max(0, needW - g.padLeft - inW);
  const xt = s.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, B]
  const f = s.transpose(dy, [1, 2, 0, 3]); // [OH, OW, B, Co]
  const out = s.conv2d(xt, f, {
    strides: g.dilations,
    dilations: g.strides,
    pads: [g.padTop, padBottom, g.padLeft, padRight],
  }); // [Ci, KH', KW', Co] with KH' >= KH
  const cropped = s.slice(out, [0, 0, 0, 0], [out.shape[0], g.kh, g.kw, out.shape[3]]);
  return s.transpose(cropped, [1, 2, 0, 3]);
}

/** Kernel function registered as `Conv2DBackpropFilter` on `wasm`. */
export const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
  return withScope(backend as KernelBackend, (s) => {
    const nchw = dataFormat === 'NCHW';
    const xh = nchw ? s.transpose(x, [0, 2, 3, 1]) : x;
    const dyh = nchw ? s.transpose(dy, [0, 2, 3, 1]) : dy;
    const pad4 = nchw && Array.isArray(pad) ? [pad[0], pad[2], pad[3], pad[1]] : pad;
    const info = backend_util.computeConv2DInfo(
      xh.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad4 as typeof pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    if (info.outHeight !== dyh.shape[1] || info.outWidth !== dyh.shape[2]) {
      throw new Error(
        `Conv2DBackpropFilter: dy is ${dyh.shape} but the convolution of ${xh.shape} gives ${info.outShape}.`,
      );
    }
    return filterGradByConv(s, xh, dyh, {
      kh: info.filterHeight,
      kw: info.filterWidth,
      strides: [info.strideHeight, info.strideWidth],
      dilations: [1, 1],
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    });
  });
};

/** Kernel config: `Conv2DBackpropFilter` on `wasm` by one XNNPACK convolution. */
export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
