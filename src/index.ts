// Public API of sharpen-kd. This file only re-exports; see the folders for each concept.
export * from './errors';
export type { Progress, TaskOptions } from './core/task';
export { throwIfAborted } from './core/task';
export { useBackend, BACKEND_NAMES } from './backends/use-backend';
export type { BackendName, UseBackendOptions } from './backends/use-backend';
export type { RawImage } from './io/raw-image';
export { toFloatRgb, fromFloatRgb } from './io/raw-image';
export { readImage, writeImage, decodeImage, encodeImage } from './io/node-image';
export type { ImageFormat } from './io/node-image';
export { writeFileAtomic } from './io/atomic-write';
export { Rng } from './core/rng';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './backends/wasm-kernels/register';
export { spaceToDepth, registerDepthToSpaceGradient } from './backends/wasm-kernels/depth-to-space-grad';
