/**
 * The browser platform (web workers too): paths are URLs relative to the page and fetched, images go through
 * `createImageBitmap` and `OffscreenCanvas`, `'auto'` runs on TF.js, optional packages are plain `import()`s.
 */
import { decodeImageBrowser, encodeImageBrowser } from '../io/browser-image';
import { checkInputPixels } from '../io/pixel-limits';
import { importOptional } from './import-optional';
import type { Platform } from './platform';
import { fetchBytes, joinUrl } from './urls';

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
  autoEngine: 'tfjs',
  onnxRuntime: 'onnxruntime-web',
  defaultTfBackend: undefined,
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
