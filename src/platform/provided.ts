/**
 * The ONNX Runtime module an app hands to sharpen-kd instead of letting it be imported by name. In a browser bundle
 * `import(name)` with the name in a variable cannot resolve a bare package name, so an app that wants Student on
 * onnxruntime-web imports it itself (where its bundler can see the import and serve the runtime's files) and provides
 * it here. The browser platform's `'auto'` then prefers ONNX Runtime, and the runner takes this module over an import.
 */
import { BackendError } from '../errors';

let provided: unknown;

/** True for an onnxruntime module (or its default export): it has `InferenceSession.create` and `Tensor`. */
function isOrtModule(m: unknown): boolean {
  const has = (x: unknown) => typeof x === 'object' && x !== null && typeof (x as { InferenceSession?: { create?: unknown } }).InferenceSession?.create === 'function' && typeof (x as { Tensor?: unknown }).Tensor === 'function';
  return has(m) || (typeof m === 'object' && m !== null && has((m as { default?: unknown }).default));
}

/**
 * Hands sharpen-kd an imported ONNX Runtime module: from then on `Student` runs on it (`backend: 'auto'` prefers it in
 * browsers too) without importing `onnxruntime-web` / `onnxruntime-node` by name. Pass `undefined` to withdraw it.
 * Set `ort.env.wasm.wasmPaths` (and, if you want, `ort.env.wasm.numThreads`) before the first model loads: onnxruntime-web
 * reads them once. sharpen-kd sets `numThreads` to `navigator.hardwareConcurrency` on a cross-origin isolated page
 * (COOP `same-origin` + COEP `require-corp`: SharedArrayBuffer is needed for threads), else 1, when it is not set.
 *
 * @throws BackendError when `ort` is not an onnxruntime module (no `InferenceSession` / `Tensor`).
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url'; // Vite: the runtime's files as URLs
 * import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
 * ort.env.wasm.wasmPaths = { wasm, mjs };
 * provideOnnxRuntime(ort);
 * const student = await Student.load('x4', { modelBaseUrl }); // ONNX Runtime: WebGPU where the browser has it, else wasm
 * ```
 */
export function provideOnnxRuntime(ort: unknown): void {
  if (ort !== undefined && !isOrtModule(ort)) throw new BackendError('provideOnnxRuntime needs the onnxruntime module (`import * as ort from \'onnxruntime-web\'`): this one has no InferenceSession / Tensor');
  provided = ort;
}

/** @internal The module given to {@link provideOnnxRuntime}, or undefined. */
export function providedOnnxRuntime(): unknown {
  return provided;
}
