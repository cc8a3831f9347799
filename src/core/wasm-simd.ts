/**
 * Compiling the library's own WebAssembly SIMD kernels (`src/**\/*.wat`, built into `*-wasm.ts` byte arrays by
 * `scripts/build-wasm.ts`): once per module, synchronously (the modules are a few hundred bytes, under the size
 * browsers allow on the main thread), and to nothing where the engine has no WebAssembly or no SIMD, so the caller
 * takes its JavaScript path.
 */

/** @internal A getter of the compiled module for `bytes`, compiled on the first call; null without WebAssembly SIMD. */
export function lazyWasmModule(bytes: Uint8Array<ArrayBuffer>): () => WebAssembly.Module | null {
  let compiled: WebAssembly.Module | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
      } catch {
        compiled = null;
      }
    }
    return compiled;
  };
}
