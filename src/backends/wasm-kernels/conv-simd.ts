/**
 * `Conv2D` and `FusedConv2D` on wasm by the library's own WebAssembly SIMD loop (`conv` in `heap-simd.wat`) where it
 * beats XNNPACK: stride 1, dilation 1, NHWC, input channels in fours and output channels in eights, no activation
 * (a bias is fine), and the backend on one thread (XNNPACK splits a convolution over its threads; this loop does not).
 * That is every 16→16 layer of the compact students, forward and (as a convolution of dy with the flipped filter) in
 * the input gradient. Every other convolution goes to the backend's own kernel.
 *
 * The input is copied once, zero-padded to the frame the filter slides over (not at all for a 'valid' convolution);
 * the loop reads it and the filter in the backend's heap and writes the output there.
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { withScope, type KernelScope, type WasmBackendLike } from './kernel-scope';
import { backendThreads, heapAddress, heapSimd, paddedFrame } from './heap-simd';
import { callOriginal } from './originals';

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
}

/** The convolution's geometry when the SIMD loop takes it, else null. */
function simdGeometry(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, a: ConvAttrs): backend_util.Conv2DInfo | null {
  if (a.dataFormat !== 'NHWC' || (a.activation !== undefined && a.activation !== 'linear')) return null;
  if (x.shape.length !== 4 || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const [, , ci, co] = filter.shape;
  if (ci % 4 !== 0 || co % 8 !== 0 || !heapSimd(backend) || backendThreads(backend) !== 1) return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  return unit && info.outHeight > 0 && info.outWidth > 0 ? info : null;
}

/** `conv2d(x, filter) + bias` (NHWC) by the SIMD loop, for a geometry {@link simdGeometry} accepted. */
function convSimd(s: KernelScope, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, info: backend_util.Conv2DInfo): TensorInfo {
  const k = heapSimd(s.backend)!;
  const [batch, inH, inW, ci] = x.shape;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const hp = oh + kh - 1;
  const wp = ow + kw - 1;
  const out = s.empty([batch, oh, ow, co]);
  // The input as the padded frame [B, Hp, Wp, Ci]: x itself when no padding is needed and x is exactly that frame.
  const xp = top !== 0 || left !== 0 || hp !== inH || wp !== inW ? paddedFrame(s, x, hp, wp, top, left, ci) : x;
  k.conv(heapAddress(s, xp), heapAddress(s, filter), bias ? heapAddress(s, bias) : 0, heapAddress(s, out), batch, oh, ow, kh, kw, ci, co);
  return out;
}

/** Kernel function registered as `Conv2D` on `wasm`. */
export const conv2dSimd: KernelFunc = (args) => {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const info = simdGeometry(args.backend as WasmBackendLike, x, filter, args.attrs as unknown as ConvAttrs);
  if (!info) return callOriginal('Conv2D', args);
  return withScope(args.backend as KernelBackend, (s) => convSimd(s, x, filter, undefined, info));
};

/** Kernel function registered as `FusedConv2D` on `wasm`. */
export const fusedConv2dSimd: KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const biasOk = !bias || (bias.shape.length === 1 && bias.shape[0] === filter.shape[3] && bias.dtype === 'float32');
  const info = preluActivationWeights || !biasOk ? null : simdGeometry(args.backend as WasmBackendLike, x, filter, args.attrs as unknown as ConvAttrs);
  if (!info) return callOriginal('FusedConv2D', args);
  return withScope(args.backend as KernelBackend, (s) => convSimd(s, x, filter, bias, info));
};

/** Kernel config: `Conv2D` on `wasm`, the SIMD loop where it is faster. */
export const conv2dSimdConfig: KernelConfig = { kernelName: 'Conv2D', backendName: 'wasm', kernelFunc: conv2dSimd };
/** Kernel config: `FusedConv2D` on `wasm`, the SIMD loop where it is faster. */
export const fusedConv2dSimdConfig: KernelConfig = { kernelName: 'FusedConv2D', backendName: 'wasm', kernelFunc: fusedConv2dSimd };
