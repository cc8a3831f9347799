/**
 * TF.js backends, and training on WebAssembly: {@link useBackend} and the backend names, the training kernels
 * sharpen-kd adds to tfjs-backend-wasm (`useBackend('wasm')` registers them; these are for selecting the backend
 * yourself or comparing with the stock kernels), and benchmarks of the convolution kernels and of a training step.
 *
 * @example
 * ```ts
 * import { benchmarkConvKernels, registerWasmTrainingKernels } from 'sharpen-kd/wasm';
 * registerWasmTrainingKernels();
 * const rows = await benchmarkConvKernels({ reps: 3 });
 * ```
 *
 * @module sharpen-kd/wasm
 */
export { useBackend, BACKEND_NAMES } from '../backends/use-backend';
export type { BackendName, UseBackendOptions } from '../backends/use-backend';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../backends/wasm-kernels/register';
export { benchmarkConvKernels } from '../bench/kernels';
export type { ConvBenchOptions, ConvBenchRow, ConvShape, ConvKernel } from '../bench/kernels';
export { benchmarkTrainingStep, espcnTrainingStep } from '../bench/training-step';
export type { TrainingStepBenchOptions, TrainingStepBenchRow, BenchActivation } from '../bench/training-step';
export type { BenchTarget } from '../bench/timing';
