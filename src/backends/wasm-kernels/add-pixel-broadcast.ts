/**
 * `Add` on wasm where one input has a single value per pixel and the other several channels, the same leading shape
 * (`[..., 1] + [..., C]`, either order): a detail-on-luma student's output, its one-channel detail added to each channel
 * of the upsampled RGB input, on a whole HR batch at every training step. XNNPACK's broadcasting add took ~3.7 ms for
 * [16, 128, 128, 1] + [16, 128, 128, 3]; the loop here (`add_pixel_broadcast` in heap-simd.wat) a fraction of that, with
 * the same float32 sums. Every other `Add` goes to the backend's own kernel.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope, type WasmBackendLike } from './kernel-scope';
import { heapAddress, heapSimd } from './heap-simd';
import { callOriginal } from './originals';

/** `[one, many]` when `a` and `b` are `[..., 1]` and `[..., C]` (C > 1) with the same leading shape, in either order. */
function pixelBroadcast(a: TensorInfo, b: TensorInfo): [TensorInfo, TensorInfo] | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length || a.shape.length < 2) return null;
  const lead = a.shape.length - 1;
  for (let i = 0; i < lead; i++) if (a.shape[i] !== b.shape[i]) return null;
  if (a.shape[lead] === 1 && b.shape[lead] > 1) return [a, b];
  if (b.shape[lead] === 1 && a.shape[lead] > 1) return [b, a];
  return null;
}

/** Kernel function registered as `Add` on `wasm`. */
export const addPixelBroadcast: KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const pair = pixelBroadcast(a, b);
  if (!pair || !heapSimd(args.backend as WasmBackendLike)) return callOriginal('Add', args);
  const [one, many] = pair;
  return withScope(args.backend as KernelBackend, (s) => {
    const out = s.empty(many.shape);
    const c = many.shape[many.shape.length - 1];
    const pixels = many.shape.reduce((p, d) => p * d, 1) / c;
    heapSimd(s.backend)!.add_pixel_broadcast(heapAddress(s, one), heapAddress(s, many), heapAddress(s, out), pixels, c);
    return out;
  });
};

/** Kernel config: `Add` on `wasm`, the loop for a per-pixel value added to every channel. */
export const addPixelBroadcastConfig: KernelConfig = { kernelName: 'Add', backendName: 'wasm', kernelFunc: addPixelBroadcast };
