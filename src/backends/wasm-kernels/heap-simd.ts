/**
 * The library's WebAssembly SIMD training kernels (`heap-simd.wat`), instantiated on the TF.js wasm backend's own
 * memory: they read and write tensors where the backend keeps them, with no copy in or out. Built twice by
 * `scripts/build-wasm.ts`, for the backend's single-threaded memory and for the shared memory of its threaded build.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { lazyWasmModule } from '../../core/wasm-simd';
import type { KernelScope, WasmBackendLike } from './kernel-scope';
import { WASM_BYTES, WASM_BYTES_SHARED } from './heap-simd-wasm';

/** The kernels; every address is a byte offset in the backend's heap. See heap-simd.wat for what each computes. */
export interface HeapSimd {
  filter_grad(xp: number, dy: number, dw: number, batch: number, oh: number, ow: number, kh: number, kw: number, ci: number, co: number): void;
  conv(xp: number, w: number, bias: number, out: number, batch: number, oh: number, ow: number, kh: number, kw: number, ci: number, co: number): void;
  prelu(x: number, alpha: number, y: number, pixels: number, c: number): void;
  prelu_dx(dy: number, x: number, alpha: number, dx: number, pixels: number, c: number): void;
  prelu_dalpha(dy: number, x: number, acc: number, dalpha: number, pixels: number, c: number): void;
  rgb_to_y(x: number, y: number, pixels: number, wr: number, wg: number, wb: number, offset: number): void;
  rgb_to_y_grad(dy: number, dx: number, pixels: number, wr: number, wg: number, wb: number): void;
  add_pixel_broadcast(a: number, b: number, out: number, pixels: number, c: number): void;
  column_sum(x: number, acc: number, out: number, rows: number, c: number): void;
}

const plainModule = lazyWasmModule(WASM_BYTES);
const sharedModule = lazyWasmModule(WASM_BYTES_SHARED);
const instances = new WeakMap<WebAssembly.Memory, HeapSimd | null>();

/**
 * The backend's `WebAssembly.Memory`: Emscripten's module object holds it (`wasmMemory`, in the threaded build, which
 * imports it), or its exports do (`asm`, in the single-threaded build, which exports it).
 */
function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | null {
  const wasm = (backend as unknown as { wasm?: { wasmMemory?: unknown; asm?: Record<string, unknown> } }).wasm;
  if (wasm?.wasmMemory instanceof WebAssembly.Memory) return wasm.wasmMemory;
  const found = Object.values(wasm?.asm ?? {}).find((v) => v instanceof WebAssembly.Memory);
  return (found as WebAssembly.Memory | undefined) ?? null;
}

/** The kernels on `backend`'s memory, or null where that memory or WebAssembly SIMD is not available. */
export function heapSimd(backend: WasmBackendLike): HeapSimd | null {
  const memory = backendMemory(backend);
  if (!memory) return null;
  let k = instances.get(memory);
  if (k === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const m = shared ? sharedModule() : plainModule();
    try {
      k = m ? (new WebAssembly.Instance(m, { env: { memory } }).exports as unknown as HeapSimd) : null;
    } catch {
      k = null;
    }
    instances.set(memory, k);
  }
  return k;
}

/** Threads the backend's XNNPACK runs on (1 for the single-threaded build). */
export function backendThreads(backend: WasmBackendLike): number {
  const wasm = (backend as unknown as { wasm?: { _get_threads_count?: () => number; asm?: { get_threads_count?: () => number } } }).wasm;
  const count = wasm?._get_threads_count ?? wasm?.asm?.get_threads_count;
  return typeof count === 'function' ? count() : 1;
}

/** Byte address of a tensor's data in the heap (valid until the tensor is freed; the heap may grow, addresses stay). */
export function heapAddress(s: KernelScope, t: TensorInfo): number {
  return s.view(t).byteOffset;
}

/**
 * `x` `[B, H, W, C]` as the zero-padded frame a stride-1 filter slides over, `[B, hp, wp, ci]`, with `x[b, y, x]` at
 * `[b, y + top, x + left]` (what lies outside the frame is dropped) and channels `C … ci − 1` zero. A new intermediate
 * of `s`.
 */
export function paddedFrame(s: KernelScope, x: TensorInfo, hp: number, wp: number, top: number, left: number, ci: number): TensorInfo {
  const [batch, inH, inW, inC] = x.shape;
  const xp = s.empty([batch, hp, wp, ci]);
  // Views after the allocation (the heap may grow).
  const [xv, xpv] = [s.view(x), s.view(xp)];
  xpv.fill(0);
  const fx0 = Math.max(0, left);
  const fx1 = Math.min(wp, inW + left);
  for (let b = 0; b < batch; b++) {
    for (let fy = 0; fy < hp; fy++) {
      const y = fy - top;
      if (y < 0 || y >= inH || fx1 <= fx0) continue;
      const src = ((b * inH + y) * inW + (fx0 - left)) * inC;
      const dst = ((b * hp + fy) * wp + fx0) * ci;
      if (ci === inC) xpv.set(xv.subarray(src, src + (fx1 - fx0) * inC), dst);
      else spreadPixels(xv, src, inC, xpv, dst, ci, fx1 - fx0);
    }
  }
  return xp;
}

/** Copies `n` pixels of `c` channels from `src` (at `from`) to `dst` (at `to`), whose pixels are `stride` floats apart. */
export function spreadPixels(src: Float32Array, from: number, c: number, dst: Float32Array, to: number, stride: number, n: number): void {
  for (let p = 0; p < n; p++, from += c, to += stride) for (let j = 0; j < c; j++) dst[to + j] = src[from + j];
}
