/**
 * The engines the demo pages offer, and how each loads a Student: ONNX Runtime Web (WebGPU, or WebAssembly with SIMD
 * and threads) or a TF.js backend (WebGPU, WebGL, WebAssembly, plain JavaScript).
 *
 * onnxruntime-web is imported here, where Vite sees it: its runtime files (`.wasm` and the `.mjs` that loads it and
 * starts the worker threads) are imported with `?url`, so that Vite serves them in dev and copies them into the build,
 * and handed to `ort.env.wasm.wasmPaths`. Then `provideOnnxRuntime(ort)` gives the runtime to sharpen-kd. Threads
 * need a cross-origin isolated page: vite.config.ts sends COOP `same-origin` and COEP `require-corp`.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setUpTfjsWasm } from './tfjs-wasm';
import * as ort from 'onnxruntime-web';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import { provideOnnxRuntime, Student, useBackend, type BackendName, type StudentLoadOptions } from 'sharpen-kd';
setUpTfjsWasm();
ort.env.wasm.wasmPaths = { wasm: ortWasm, mjs: ortMjs };
provideOnnxRuntime(ort);

/** What the engine menus offer. `auto`: ONNX Runtime (WebGPU, else wasm), else the best TF.js backend. */
export type EngineChoice = 'auto' | 'ort-webgpu' | 'ort-wasm' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Every choice, with its label, in menu order. */
export const ENGINES: readonly { choice: EngineChoice; label: string }[] = [
  { choice: 'auto', label: 'auto (ONNX Runtime: WebGPU, else wasm)' },
  { choice: 'ort-webgpu', label: 'ONNX Runtime · WebGPU' },
  { choice: 'ort-wasm', label: 'ONNX Runtime · wasm (SIMD, threads)' },
  { choice: 'webgpu', label: 'TF.js · WebGPU' },
  { choice: 'webgl', label: 'TF.js · WebGL' },
  { choice: 'wasm', label: 'TF.js · wasm' },
  { choice: 'cpu', label: 'TF.js · cpu (JavaScript)' },
];

/** True where the browser has WebGPU with an adapter. */
export async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** Initialises a TF.js backend; WebGPU's package is imported only where the browser has WebGPU. */
export async function tfBackend(name: BackendName): Promise<string> {
  if (name === 'webgpu') {
    if (!(await hasWebGpu())) throw new Error('this browser has no WebGPU');
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  return useBackend(name);
}

/**
 * Why an engine cannot run in this browser, or undefined when it can (as far as can be told before loading a model:
 * the WebGPU ones need an adapter, TF.js WebGL a context that initialises).
 */
export async function unavailable(choice: EngineChoice): Promise<string | undefined> {
  if (choice === 'ort-webgpu' || choice === 'webgpu') return (await hasWebGpu()) ? undefined : 'no WebGPU adapter in this browser';
  if (choice === 'webgl') return tfBackend('webgl').then(() => undefined, (e: Error) => e.message);
  return undefined;
}

/** The first TF.js backend of WebGPU, WebGL, wasm and cpu that initialises here. */
async function bestTfBackend(): Promise<string> {
  for (const name of ['webgpu', 'webgl', 'wasm'] as const) {
    try {
      return await tfBackend(name);
    } catch {
      // the next one
    }
  }
  return tfBackend('cpu');
}

/**
 * Loads `name` (`x4`, `x2`, …, or `bicubic`) on `choice`. TF.js always gets a backend too: it upscales alpha and runs
 * bicubic, and on `auto` it runs the model when ONNX Runtime cannot (the first of WebGPU, WebGL, wasm, cpu that
 * initialises); on the ONNX Runtime choices it is wasm. `ortOptions` go to ONNX Runtime: `threads` counts only before
 * its first model loads (onnxruntime-web starts its threads once).
 */
export async function loadStudent(name: string, choice: EngineChoice, modelBaseUrl: string, ortOptions: Pick<StudentLoadOptions, 'threads' | 'spinning'> = {}): Promise<Student> {
  if (choice === 'auto') await bestTfBackend();
  else await tfBackend(choice === 'ort-webgpu' || choice === 'ort-wasm' ? 'wasm' : choice);
  if (name === 'bicubic') return Student.load('bicubic', { scale: 4 });
  if (choice === 'ort-webgpu') return Student.load(name, { modelBaseUrl, backend: 'onnx', executionProviders: ['webgpu'], ...ortOptions });
  if (choice === 'ort-wasm') return Student.load(name, { modelBaseUrl, backend: 'onnx', executionProviders: ['wasm'], ...ortOptions });
  return Student.load(name, { modelBaseUrl, backend: choice === 'auto' ? 'auto' : choice, ...(choice === 'auto' ? ortOptions : {}) });
}

/** The engine a Student runs on, for people: `ONNX Runtime · webgpu`, `TF.js · webgl`. */
export function engineName(s: Student): string {
  return s.info.backend === 'onnx' ? `ONNX Runtime · ${s.info.executionProvider ?? '?'}` : `TF.js · ${s.info.backend}`;
}
