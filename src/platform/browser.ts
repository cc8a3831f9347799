/**
 * The browser platform (web workers too): paths are URLs relative to the page and fetched, images go through
 * `createImageBitmap` and `OffscreenCanvas`, `'auto'` runs on onnxruntime-web once the app provided it (WebGPU where the
 * browser has it, else wasm) and on TF.js otherwise, optional packages are plain `import()`s.
 */
import { decodeImageBrowser, encodeImageBrowser } from '../io/browser-image';
import { checkInputPixels } from '../io/pixel-limits';
import { importOptional } from './import-optional';
import type { Platform } from './platform';
import { providedOnnxRuntime } from './provided';
import { fetchBytes, joinUrl } from './urls';

/** True where `navigator.gpu` exists and gives an adapter (WebGPU can run here). */
async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/**
 * The platform of browsers and web workers. Nothing here reads or writes a file system.
 *
 * @example
 * ```ts
 * setPlatform(browserPlatform); // e.g. a bundle for a web runtime that defines `process`
 * ```
 */
export const browserPlatform: Platform = {
  fileSystem: false,
  get autoEngine() {
    return providedOnnxRuntime() === undefined ? 'tfjs' : 'onnx';
  },
  shippedOnnxGraphs: false,
  onnxRuntime: 'onnxruntime-web',
  defaultTfBackend: undefined,

  async onnxProviders() {
    return (await hasWebGpuAdapter()) ? ['webgpu', 'wasm'] : ['wasm'];
  },

  configureOnnxRuntime(ort, threads) {
    const m = ort as { env?: { wasm?: { numThreads?: number } }; default?: { env?: { wasm?: { numThreads?: number } } } };
    const wasm = m.env?.wasm ?? m.default?.env?.wasm;
    if (!wasm) return;
    if (threads !== undefined) wasm.numThreads = threads;
    else if (!wasm.numThreads) wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1) : 1;
  },
  wasmThreadsPatch: false,
  sharp: false,

  env() {
    return undefined;
  },

  async readBytes(input, name) {
    return fetchBytes(input instanceof URL ? input.href : input, name);
  },

  async joinPath(base, relative) {
    return joinUrl(base, relative);
  },

  async pathExists() {
    return false;
  },

  async decodeImage(bytes, name, opts = {}) {
    const image = await decodeImageBrowser(bytes, name);
    checkInputPixels(name, image.width, image.height, 1, opts.maxPixels);
    return { image };
  },

  async encodeImage(image, format, opts = {}) {
    return encodeImageBrowser(image, format, opts);
  },

  async wasmPaths() {
    return undefined;
  },

  loadPackage: importOptional,

  cpuTimeMs() {
    return performance.now();
  },
};
