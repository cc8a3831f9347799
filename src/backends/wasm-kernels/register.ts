/**
 * Registers sharpen-kd's training kernels on the TF.js wasm backend (tensorflow/tfjs#8474).
 *
 * tfjs-backend-wasm 4.22 cannot train convolutional nets: it has no `Conv2DBackpropFilter` and no
 * depthwise backprops, and its `Conv2DBackpropInput` is a naive loop. Added here, on the backend's own XNNPACK
 * convolutions and on the library's WebAssembly SIMD kernels, which run on the backend's heap (`heap-simd.wat`):
 *
 * - `Conv2DBackpropFilter` (stride 1: a SIMD loop; strided: XNNPACK convolutions or im2col + matrix product)
 * - `DepthwiseConv2dNativeBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`
 * - `SharpenKdPreluGrad`: the `Prelu` gradient in one SIMD pass per input, used by the installed `Prelu` gradient
 * - `SharpenKdRgbToY`, `SharpenKdRgbToYGrad`: the luma of RGB and its gradient in the heap, used by `rgbToY` (the luma
 *   losses)
 *
 * Replaced, because they dominated a training step (originals kept for fallbacks and restoring):
 *
 * - `Conv2DBackpropInput`: one conv per stride phase, or 1x1 conv + scatter-add below 8 channels
 * - `Conv2D`, `FusedConv2D`: a SIMD loop for stride-1 convolutions with channels in fours (in) and eights (out),
 *   no activation, on one thread (`conv-simd.ts`); XNNPACK for the rest
 * - `Tanh` (XNNPACK sigmoid), `DepthToSpace` (reshape + transpose), `Sum` over leading axes (bias
 *   gradients), `Identity` (zero-copy), `Add` of one value per pixel to every channel (`add-pixel-broadcast.ts`),
 *   `Prelu` with one alpha per channel (`prelu.ts`: one pass on the calling thread, not XNNPACK's operator)
 *
 * and a cheaper `Prelu` gradient is installed. `useBackend('wasm')` calls
 * {@link registerWasmTrainingKernels}; importing this module also registers the `DepthToSpace` gradient
 * (pixel shuffle) for every backend. See docs/training-on-wasm.md.
 */
import { findBackend, getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { addPixelBroadcastConfig } from './add-pixel-broadcast';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { conv2dSimdConfig, fusedConv2dSimdConfig } from './conv-simd';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop';
import { depthToSpaceConfig } from './depth-to-space';
import { identityConfig } from './identity';
import { preluConfig } from './prelu';
import { installPreluGradient, preluGradKernelConfig, uninstallPreluGradient } from './prelu-grad';
import { rgbToYGradKernelConfig, rgbToYKernelConfig } from './rgb-to-y';
import { sumConfig } from './sum';
import { tanhConfig } from './tanh';
import './depth-to-space-grad';
import { originalConfig, rememberOriginal } from './originals';

/** Kernels the wasm backend lacks, added here. */
const ADDED: KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  preluGradKernelConfig,
  rgbToYKernelConfig,
  rgbToYGradKernelConfig,
];
/** Kernels the wasm backend has, replaced here by faster ones. */
const REPLACED: KernelConfig[] = [
  conv2dBackpropInputConfig,
  conv2dSimdConfig,
  fusedConv2dSimdConfig,
  tanhConfig,
  depthToSpaceConfig,
  sumConfig,
  identityConfig,
  addPixelBroadcastConfig,
  preluConfig,
];

function isOurs(cfg: KernelConfig | undefined): boolean {
  return cfg != null && [...ADDED, ...REPLACED].includes(cfg);
}

/**
 * Registers the wasm training kernels (idempotent). `useBackend('wasm')` does this for you; call it
 * yourself only if you select the wasm backend with `tf.setBackend('wasm')` directly.
 *
 * @returns the names of the kernels now provided by sharpen-kd on `wasm`.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmTrainingKernels } from 'sharpen-kd/wasm';
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm'); // tf.grad of a conv net now runs on XNNPACK
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  for (const cfg of [...ADDED, ...REPLACED]) {
    const current = getKernel(cfg.kernelName, cfg.backendName);
    if (current === cfg) continue;
    if (current) {
      if (!isOurs(current)) rememberOriginal(current);
      unregisterKernel(cfg.kernelName, cfg.backendName);
    }
    registerKernel(cfg);
  }
  installPreluGradient();
  return [...ADDED, ...REPLACED].map((c) => c.kernelName);
}

/**
 * Removes the wasm training kernels and restores the wasm backend's own kernels they replaced
 * (useful to compare speed or results against stock tfjs-backend-wasm).
 *
 * @example
 * ```ts
 * unregisterWasmTrainingKernels(); // stock tfjs-backend-wasm again
 * registerWasmTrainingKernels();
 * ```
 */
export function unregisterWasmTrainingKernels(): void {
  uninstallPreluGradient();
  for (const cfg of [...ADDED, ...REPLACED]) {
    if (getKernel(cfg.kernelName, cfg.backendName) !== cfg) continue;
    unregisterKernel(cfg.kernelName, cfg.backendName);
    const original = originalConfig(cfg.kernelName);
    if (!original) continue;
    registerKernel(original);
    // The backend runs setupFuncs when it initialises; if that happened while ours was registered, the
    // original was never set up (its wasm function is not bound yet).
    const backend = findBackend(cfg.backendName);
    if (backend && original.setupFunc) original.setupFunc(backend);
  }
}
