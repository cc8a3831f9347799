/**
 * The luma of a batch of RGB images on wasm, in the backend's heap: `rgbToY` (metrics/y-channel.ts) runs these two
 * kernels there, forward and gradient, instead of copying the batch out to JavaScript and the result back in (a luma
 * loss converts the student's output and the HR batch at every step: [16, 128, 128, 3] twice, ~10 ms per call that way
 * against well under 1 ms here). The loops are `rgb_to_y` / `rgb_to_y_grad` in heap-simd.wat; without WebAssembly SIMD
 * the host loops of y-channel.ts run on the heap views.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { RGB_TO_Y_GRAD_KERNEL, RGB_TO_Y_KERNEL, Y_FLOAT32, yBackward, yForward } from '../../metrics/y-channel';
import { withScope } from './kernel-scope';
import { heapAddress, heapSimd } from './heap-simd';

/** Kernel function of {@link RGB_TO_Y_KERNEL}: `x` `[..., 3]` float32 → `[..., 1]`. */
export const rgbToYKernel: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  return withScope(backend as KernelBackend, (s) => {
    const y = s.empty([...x.shape.slice(0, -1), 1]);
    const pixels = x.shape.reduce((p, d) => p * d, 1) / 3;
    const [wr, wg, wb, off] = Y_FLOAT32;
    const k = heapSimd(s.backend);
    if (k) {
      k.rgb_to_y(heapAddress(s, x), heapAddress(s, y), pixels, wr, wg, wb, off);
    } else {
      s.view(y).set(yForward(s.view(x), true));
    }
    return y;
  });
};

/** Kernel function of {@link RGB_TO_Y_GRAD_KERNEL}: `dy` `[..., 1]` → `dx` `[..., 3]`, `dx[..., c] = dy · w_c`. */
export const rgbToYGradKernel: KernelFunc = ({ inputs, backend }) => {
  const { dy } = inputs as { dy: TensorInfo };
  return withScope(backend as KernelBackend, (s) => {
    const dx = s.empty([...dy.shape.slice(0, -1), 3]);
    const pixels = dy.shape.reduce((p, d) => p * d, 1);
    const [wr, wg, wb] = Y_FLOAT32;
    const k = heapSimd(s.backend);
    if (k) {
      k.rgb_to_y_grad(heapAddress(s, dy), heapAddress(s, dx), pixels, wr, wg, wb);
    } else {
      s.view(dx).set(yBackward(s.view(dy)));
    }
    return dx;
  });
};

/** Kernel config: {@link RGB_TO_Y_KERNEL} on `wasm`. */
export const rgbToYKernelConfig: KernelConfig = { kernelName: RGB_TO_Y_KERNEL, backendName: 'wasm', kernelFunc: rgbToYKernel };
/** Kernel config: {@link RGB_TO_Y_GRAD_KERNEL} on `wasm`. */
export const rgbToYGradKernelConfig: KernelConfig = { kernelName: RGB_TO_Y_GRAD_KERNEL, backendName: 'wasm', kernelFunc: rgbToYGradKernel };
