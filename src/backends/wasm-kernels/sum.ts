/**
 * `Sum` over leading axes for the wasm backend (bias gradients: `sum(dy, [0, 1, 2])` of NHWC `dy`).
 *
 * tfjs-backend-wasm first transposes the input so that the reduced axes are innermost, which for NHWC
 * costs a full strided copy of `dy`; summing rows of the `[N, C]` view directly is one pass: a SIMD loop in the heap
 * (`column_sum` in heap-simd.wat: float32 sums of 64 rows, added in float64) when C is a multiple of 4, else in
 * JavaScript in float64. Every other reduction goes to the backend's own kernel.
 */
import { util, type KernelBackend, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './kernel-scope';
import { heapAddress, heapSimd } from './heap-simd';
import { callOriginal } from './originals';

/** Kernel function registered as `Sum` on `wasm`. */
export const sum: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as SumAttrs;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return callOriginal('Sum', args);
  return withScope(args.backend as KernelBackend, (s) => {
    const kept = x.shape.slice(axes.length);
    const inner = kept.reduce((p, d) => p * d, 1);
    const outer = util.sizeFromShape(x.shape) / Math.max(inner, 1);
    const out = s.empty(keepDims ? [...axes.map(() => 1), ...kept] : kept);
    const k = inner % 4 === 0 && outer > 0 ? heapSimd(s.backend) : null;
    if (k) k.column_sum(heapAddress(s, x), heapAddress(s, s.empty([2 * inner])), heapAddress(s, out), outer, inner);
    else s.view(out).set(sumRows(s.view(x), outer, inner));
    return out;
  });
};

/** Column sums of the row-major `[outer, inner]` matrix `v`, in float64, four rows per pass. */
function sumRows(v: Float32Array, outer: number, inner: number): Float64Array {
  const acc = new Float64Array(inner);
  let n = 0;
  let base = 0;
  for (; n + 4 <= outer; n += 4, base += 4 * inner) {
    const b1 = base + inner;
    const b2 = b1 + inner;
    const b3 = b2 + inner;
    for (let c = 0; c < inner; c++) acc[c] += v[base + c] + v[b1 + c] + v[b2 + c] + v[b3 + c];
  }
  for (; n < outer; n++, base += inner) for (let c = 0; c < inner; c++) acc[c] += v[base + c];
  return acc;
}

/** Kernel config: `Sum` on `wasm`, fast path for leading axes. */
export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: 'wasm', kernelFunc: sum };
