/**
 * TF.js's WebAssembly backend for the demo pages: where Vite serves its `.wasm` files (`?url` imports, copied into the
 * build), and one thread. The pages are cross-origin isolated (for onnxruntime-web's threads), which makes
 * tfjs-backend-wasm pick its threaded build; that build starts its workers from the source text of its module factory
 * (`factory.toString()` in a Blob), which breaks once a bundler has wrapped and renamed the module (the workers die
 * with "ReferenceError: e is not defined"). So TF.js wasm stays on its single-threaded SIMD build here.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Points tfjs-backend-wasm at its served files and keeps it on one thread; call it before the wasm backend starts. A
 * function rather than code run on import: the repo's package.json marks only the library's files as having side
 * effects, so a bare `import './tfjs-wasm'` would be dropped from the build.
 */
export function setUpTfjsWasm(): void {
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}
