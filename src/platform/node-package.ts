import { importOptional } from './import-optional';

/**
 * Loads a package in Node through `require` (its CommonJS entry), falling back to `import()` (a package `require`
 * cannot load, or no `node:module` at all). For dual packages the CommonJS build loads faster from an ES module than
 * the ES build does: on the 2-core reference machine (loaded by training runs, so only the ratio counts; medians of
 * 9 interleaved runs of `node -e`) `require('sharp')` took 0.11 CPU-seconds over a bare Node start and
 * `import('sharp')` 0.33; onnxruntime-node 0.04 against 0.07.
 *
 * @example
 * ```ts
 * const sharp = await loadNodePackage<typeof import('sharp')>('sharp');
 * ```
 */
export async function loadNodePackage<T = unknown>(name: string): Promise<T> {
  let req: ((id: string) => unknown) | undefined;
  try {
    const { createRequire } = await import('node:module');
    req = createRequire(typeof __filename !== 'undefined' ? __filename : import.meta.url);
  } catch {
    req = undefined;
  }
  if (req) {
    try {
      return req(name) as T;
    } catch (e) {
      // ERR_REQUIRE_ESM and the like: the ES entry below. A missing package fails there too, with import()'s error.
      void e;
    }
  }
  return importOptional<T>(name);
}
