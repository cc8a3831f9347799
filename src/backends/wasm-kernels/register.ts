import { setWasmKernelRegistrar } from '../use-backend';

/**
 * Registers the wasm training kernels. Placeholder registrar until the kernels land; replaced by the
 * kernel implementations in this folder.
 */
export function registerWasmTrainingKernels(): void {
  // Kernels are registered in this function once implemented (see issue: training on wasm).
}

setWasmKernelRegistrar(registerWasmTrainingKernels);
