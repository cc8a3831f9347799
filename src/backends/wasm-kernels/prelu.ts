/**
 * `Prelu` on wasm for the students' PReLUs: one alpha per channel (`[1, …, 1, C]` or `[C]`) or one for the layer
 * (`[1, …, 1]`), C a multiple of 4. The
 * backend hands every PReLU to XNNPACK's operator, whose set-up and thread hand-off cost more than the arithmetic on
 * a training batch (~0.35 ms a call for [16, 32, 32, 16] on two threads); the loop here (`prelu` in heap-simd.wat) is
 * one pass over the heap on the calling thread, `max(x, 0) + alpha · min(x, 0)`, with the backend's bits (signed zeros
 * included). Every other PReLU goes to the backend's own kernel.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope, type KernelScope, type WasmBackendLike } from './kernel-scope';
import { heapAddress, heapSimd } from './heap-simd';
import { callOriginal } from './originals';

/**
 * @internal Whether `alpha` holds one value per channel of `x` (the last axis), or one value for all (every dimension 1),
 * that channel count a multiple of 4, both float32: the PReLUs the heap loops take (`prelu` here, `prelu_dx` /
 * `prelu_dalpha` in prelu-grad.ts), which read one alpha per channel ({@link channelAlphas}).
 */
export function perChannelInFours(x: Pick<TensorInfo, 'shape' | 'dtype'>, alpha: Pick<TensorInfo, 'shape' | 'dtype'>): boolean {
  const c = x.shape[x.shape.length - 1];
  const last = alpha.shape[alpha.shape.length - 1] ?? 1;
  return (
    x.dtype === 'float32' &&
    alpha.dtype === 'float32' &&
    c % 4 === 0 &&
    alpha.shape.length <= x.shape.length &&
    (last === c || last === 1) &&
    alpha.shape.slice(0, -1).every((d) => d === 1)
  );
}

/**
 * @internal `alpha` as one value per channel of `x` for the heap loops: `alpha` itself when it has one per channel,
 * else (one slope for the layer) a `[C]` intermediate of `s` filled with it.
 */
export function channelAlphas(s: KernelScope, x: TensorInfo, alpha: TensorInfo): TensorInfo {
  const c = x.shape[x.shape.length - 1];
  if (alpha.shape.length > 0 && alpha.shape[alpha.shape.length - 1] === c) return alpha;
  const a = s.empty([c]);
  s.view(a).fill(s.view(alpha)[0]);
  return a;
}

/** Kernel function registered as `Prelu` on `wasm`. */
export const prelu: KernelFunc = (args) => {
  const { x, alpha } = args.inputs as { x: TensorInfo; alpha: TensorInfo };
  if (!perChannelInFours(x, alpha) || !heapSimd(args.backend as WasmBackendLike)) return callOriginal('Prelu', args);
  return withScope(args.backend as KernelBackend, (s) => {
    const a = channelAlphas(s, x, alpha);
    const y = s.empty(x.shape);
    const c = x.shape[x.shape.length - 1];
    const pixels = x.shape.reduce((p, d) => p * d, 1) / c;
    if (pixels > 0) heapSimd(s.backend)!.prelu(heapAddress(s, x), heapAddress(s, a), heapAddress(s, y), pixels, c);
    return y;
  });
};

/** Kernel config: `Prelu` on `wasm`, the one-pass loop for per-channel (or per-layer) alphas. */
export const preluConfig: KernelConfig = { kernelName: 'Prelu', backendName: 'wasm', kernelFunc: prelu };
