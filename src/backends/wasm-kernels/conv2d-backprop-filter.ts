/**
 * `Conv2DBackpropFilter` for the wasm backend, as XNNPACK convolutions (tensorflow/tfjs#8474).
 *
 * The filter gradient of `y = conv2d(x, w)` (NHWC, stride s, dilation d, pads top/left pt/pl) is
 *
 *     dw[kh, kw, ci, co] = sum_{b, oh, ow} x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, ci] * dy[b, oh, ow, co]
 *
 * which is itself a convolution once batch and channels swap roles: take `x` as `[Ci, H, W, B]`
 * (Ci images with B channels) and `dy` as a filter `[OH, OW, B, Co]`; convolve with stride d and dilation s.
 * The output `[Ci, KH, KW, Co]` transposed to `[KH, KW, Ci, Co]` is `dw`. Pads become the inner
 * convolution's explicit pads; input columns the forward pass never read make extra output columns, dropped.
 *
 * That one convolution is run in blocks, whose partial results are summed: blocks of dy rows (the
 * reduction; the rows of x each block reads are cut out while transposing) and of output channels (the
 * backend re-lays out a filter more slowly the more output channels it has). Same FLOPs, less memory.
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelScope, withScope } from './kernel-scope';
import { filterGradByMatMul, type FilterGradGeometry } from './filter-grad-matmul';
import { canFilterGradSimd, filterGradSimd } from './filter-grad-simd';
import { permutedView, stridedCopy, type StridedView } from './permute';

/**
 * `dw[kh, kw, ci, co] = sum x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, ci] * dy[b, oh, ow, co]` by
 * XNNPACK convolutions. `x` is `[B, H, W, Ci]`, `dy` is `[B, OH, OW, Co]`; returns `[KH, KW, Ci, Co]`.
 */
export function filterGradByConv(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const [batch, inH, inW, inC] = x.shape;
  const [, outH, outW, outC] = dy.shape;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  // Columns the forward pass touched, from the first (possibly padding) column; extra output columns of the
  // inner conv (input the forward pass never read) are dropped when copying out.
  const needW = (g.kw - 1) * dw + (outW - 1) * sw + 1;
  const padRight = Math.max(0, needW - g.padLeft - inW);
  const result = s.empty([g.kh, g.kw, inC, outC]);
  const rowsPerChunk = Math.max(1, Math.floor(K_CHUNK / (outW * batch)));
  for (let r0 = 0; r0 < outH; r0 += rowsPerChunk) {
    const r1 = Math.min(outH, r0 + rowsPerChunk);
    // Input rows [a, b) of this block of dy rows; the part outside [0, H) becomes the conv's padding.
    const a = r0 * sh - g.padTop;
    const b = (r1 - 1) * sh - g.padTop + (g.kh - 1) * dh + 1;
    const [a1, b1] = [Math.max(0, a), Math.min(inH, b)];
    const xt = s.permute(x, [3, 1, 2, 0], [0, a1, 0, 0], [inC, b1 - a1, inW, batch]); // [Ci, rows, W, B]
    for (let c0 = 0; c0 < outC; c0 += CO_CHUNK) {
      const n = Math.min(CO_CHUNK, outC - c0);
      const f = s.permute(dy, [1, 2, 0, 3], [r0, 0, 0, c0], [r1 - r0, outW, batch, n]); // [rows, OW, B, n]
      const out = s.conv2d(xt, f, { strides: [dh, dw], dilations: [sh, sw], pads: [a1 - a, b - b1, g.padLeft, padRight] });
      s.release(f);
      // result[kh, kw, ci, c0 + j] (+)= out[ci, kh, kw, j] for kw < KW.
      accumulate(
        permutedView(s.view(out), out.shape, [1, 2, 0, 3]),
        { data: s.view(result), offset: c0, strides: [g.kw * inC * outC, inC * outC, outC, 1] },
        [g.kh, g.kw, inC, n],
        r0 > 0,
      );
      s.release(out);
    }
    s.release(xt);
  }
  return result;
}

/**
 * Reduction length (dy rows x width x batch) per inner convolution. Bounds the size of the filter copies
 * (dy blocks) the backend makes; 2k to 1M measured the same speed for ESPCN shapes.
 */
const K_CHUNK = 8192;
/** Output channels per inner convolution (XNNPACK computes 8 at a time; smaller filters re-layout faster). */
const CO_CHUNK = 16;

function accumulate(src: StridedView, dst: StridedView, shape: number[], add: boolean): void {
  if (!add) {
    stridedCopy(src, dst, shape);
    return;
  }
  const [n0, n1, n2, n3] = shape;
  for (let i = 0; i < n0; i++)
    for (let j = 0; j < n1; j++)
      for (let k = 0; k < n2; k++) {
        const so = src.offset + i * src.strides[0] + j * src.strides[1] + k * src.strides[2];
        const d = dst.offset + i * dst.strides[0] + j * dst.strides[1] + k * dst.strides[2];
        for (let l = 0; l < n3; l++) dst.data[d + l] += src.data[so + l * src.strides[3]];
      }
}

/**
 * Whether the im2col + matrix-product formulation (`filter-grad-matmul.ts`) beats the convolution one for this
 * geometry (strided layers, and every layer where WebAssembly SIMD is missing; stride 1 runs `filter-grad-simd.ts`). Measured on ResNet-teacher and student shapes (batch 16; `npm run bench:kernels`): the matrix
 * product wins for 1x1 filters (3-7x), strided convolutions (2x), fewer than 8 input channels (3x) and output
 * channels at least twice the input channels (1.4x); the convolution wins for 3x3 filters with as many
 * outputs as inputs, by up to 3x on large activations (the gather is then bound by memory).
 */
export function preferMatMul(g: FilterGradGeometry, inC: number, outC: number): boolean {
  return g.kh * g.kw === 1 || g.strides[0] > 1 || g.strides[1] > 1 || inC < 8 || outC >= 2 * inC;
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
    const g: FilterGradGeometry = {
      kh: info.filterHeight,
      kw: info.filterWidth,
      strides: [info.strideHeight, info.strideWidth],
      dilations: [1, 1],
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    };
    if (canFilterGradSimd(s, g)) return filterGradSimd(s, xh, dyh, g);
    if (preferMatMul(g, info.inChannels, info.outChannels)) return filterGradByMatMul(s, xh, dyh, g);
    return filterGradByConv(s, xh, dyh, g);
  });
};

/** Kernel config: `Conv2DBackpropFilter` on `wasm` by one XNNPACK convolution. */
export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
