/**
 * The Node platform: local paths are files (`node:fs`), images go through sharp (plain PNGs through `io/png.ts`,
 * without loading sharp), `'auto'` tries onnxruntime-node first, tfjs-backend-wasm's binaries come from
 * `node_modules`. Every `node:*` module is imported inside the method
 * that needs it, so that bundling this file for a browser pulls in none of them.
 */
import { InputError } from '../errors';
import { loadNodePackage } from './node-package';
import type { Platform } from './platform';
import { fetchBytes, joinUrl } from './urls';

/** Folder of tfjs-backend-wasm's `.wasm` files in the installed package (fetched by path in Node: no network). */
async function wasmDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const req = createRequire(typeof __filename !== 'undefined' ? __filename : import.meta.url);
  const pkg = req.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  // tfjs-backend-wasm reads by path in Node (fs), so a plain directory with a trailing slash works.
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

/**
 * The platform of Node.js. URLs (`http(s):`, `blob:`, `data:`) are fetched; anything else is a path or `file:` URL.
 *
 * @example
 * ```ts
 * setPlatform(nodePlatform);
 * ```
 */
export const nodePlatform: Platform = {
  fileSystem: true,
  autoEngine: 'onnx',
  shippedOnnxGraphs: true,
  onnxRuntime: 'onnxruntime-node',
  defaultTfBackend: 'wasm',

  async onnxProviders() {
    return ['cpu'];
  },

  configureOnnxRuntime() {},

  wasmThreadsPatch: true,
  sharp: true,

  env(name) {
    return process.env[name];
  },

  async readBytes(input, name) {
    const href = input instanceof URL ? input.href : input;
    if (/^(https?|blob|data):/i.test(href)) return fetchBytes(href, name);
    const fs = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const file = input instanceof URL ? fileURLToPath(input) : input;
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(`cannot read file (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (code ?? (e as Error).message)})`, { file, cause: e });
    }
  },

  async joinPath(base, relative) {
    if (/^[a-z]+:\/\//i.test(base)) return joinUrl(base, relative);
    return (await import('node:path')).join(base, relative);
  },

  async pathExists(p) {
    const fs = await import('node:fs/promises');
    return fs.access(p).then(
      () => true,
      () => false,
    );
  },

  async decodeImage(bytes, name, opts = {}) {
    const { decodeImageWithProfile } = await import('../io/node-image');
    return decodeImageWithProfile(bytes, name, opts);
  },

  async encodeImage(image, format, opts = {}) {
    const { encodeImage } = await import('../io/node-image');
    return encodeImage(image, format, opts);
  },

  wasmPaths: wasmDir,

  loadPackage: loadNodePackage,

  async offThreadOnnxSession(model, options) {
    const [{ createRequire }, { createWorkerSession }] = await Promise.all([import('node:module'), import('../backends/onnx-worker')]);
    const req = createRequire(typeof __filename !== 'undefined' ? __filename : import.meta.url);
    return createWorkerSession(req.resolve('onnxruntime-node'), model, options);
  },

  cpuTimeMs() {
    if (!process.cpuUsage) return performance.now();
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
};
