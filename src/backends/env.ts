/** True when running under Node.js (not a browser or a web worker). */
export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/**
 * Imports an optional package by name at run time. The specifier is a variable so that bundlers do not
 * try to resolve packages the user did not install.
 */
export async function importOptional<T = unknown>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as T;
}

/**
 * Loads a package in Node through `require` (its CommonJS entry), falling back to `import()` (browsers, or a package
 * `require` cannot load). For dual packages the CommonJS build loads faster from an ES module than the ES build does:
 * on the 2-core reference machine (loaded by training runs, so only the ratio counts; medians of 9 interleaved runs
 * of `node -e`) `require('sharp')` took 0.11 CPU-seconds over a bare Node start and `import('sharp')` 0.33;
 * onnxruntime-node 0.04 against 0.07.
 */
export async function loadPackage<T = unknown>(name: string): Promise<T> {
  if (isNode()) {
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
  }
  return importOptional<T>(name);
}
