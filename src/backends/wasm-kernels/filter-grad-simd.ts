/**
 * `Conv2DBackpropFilter` for stride 1 and dilation 1 by the library's own WebAssembly SIMD loop
 * (`filter-grad-simd.wat`): the compact students' 16→16 3×3 layers, whose filter gradient is a reduction over
 * 16K pixels into a 9×16×16 result, a shape XNNPACK's matrix products are not made for (they need a 10 MB im2col
 * matrix built first, and ran the product at a third of this loop's speed).
 *
 * `x` is copied once into the module's memory, zero-padded to the frame the filter slides over, and `dy` beside
 * it; the loop then reads both in place, one output row at a time. Used where {@link canFilterGradSimd} says so.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { lazyWasmModule } from '../../core/wasm-simd';
import type { KernelScope } from './kernel-scope';
import type { FilterGradGeometry } from './filter-grad-matmul';
import { WASM_BYTES } from './filter-grad-simd-wasm';

interface Exports {
  memory: WebAssembly.Memory;
  filter_grad(xp: number, dy: number, dw: number, batch: number, oh: number, ow: number, kh: number, kw: number, ci: number, co: number): void;
}

const wasmModule = lazyWasmModule(WASM_BYTES);
let instance: Exports | null | undefined;

function kernel(): Exports | null {
  if (instance === undefined) {
    const m = wasmModule();
    instance = m ? (new WebAssembly.Instance(m).exports as unknown as Exports) : null;
  }
  return instance;
}

/**
 * Whether the SIMD loop takes this geometry: stride and dilation 1, and WebAssembly SIMD. Other channel counts than
 * multiples of 4 (in) and 8 (out) are padded with zeros in the copies: for at least 8 channels the loop then beat
 * every other formulation on every student and ResNet-teacher shape measured (`lab/scripts/bench-filter-grad.ts`).
 */
export function canFilterGradSimd(g: FilterGradGeometry): boolean {
  const unit = g.strides.every((v) => v === 1) && g.dilations.every((v) => v === 1);
  return unit && kernel() !== null;
}

/** `dw` `[KH, KW, Ci, Co]` of a stride-1, dilation-1 `y = conv2d(x, w)`; same contract as `filterGradByConv`. */
export function filterGradSimd(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const k = kernel();
  if (!k || g.strides.some((v) => v !== 1) || g.dilations.some((v) => v !== 1)) throw new Error('filterGradSimd: stride 1, dilation 1 and WebAssembly SIMD only');
  const [batch, inH, inW, inC] = x.shape;
  const [, outH, outW, outC] = dy.shape;
  // Channels as the loop takes them: zero channels added (their gradients are computed and dropped).
  const ci = Math.ceil(inC / 4) * 4;
  const co = Math.ceil(outC / 8) * 8;
  const hp = outH + g.kh - 1;
  const wp = outW + g.kw - 1;
  const xpFloats = batch * hp * wp * ci;
  const dyFloats = batch * outH * outW * co;
  const dwFloats = g.kh * g.kw * ci * co;
  // Layout in the module's memory: xp, dy, dw (16-byte aligned: every size is a multiple of 4 floats).
  const xpAt = 0;
  const dyAt = xpAt + xpFloats * 4;
  const dwAt = dyAt + dyFloats * 4;
  const end = dwAt + dwFloats * 4;
  const pages = Math.ceil(end / 65536) - k.memory.buffer.byteLength / 65536;
  if (pages > 0) k.memory.grow(pages);
  const mem = new Float32Array(k.memory.buffer);
  // xp[b, fy, fx, :] = x[b, fy − padTop, fx − padLeft, :] inside x, else 0: one contiguous run per row.
  const xv = s.view(x);
  const xp = mem.subarray(xpAt / 4, xpAt / 4 + xpFloats);
  xp.fill(0);
  const fx0 = Math.max(0, g.padLeft);
  const fx1 = Math.min(wp, inW + g.padLeft);
  for (let b = 0; b < batch; b++) {
    for (let fy = 0; fy < hp; fy++) {
      const y = fy - g.padTop;
      if (y < 0 || y >= inH || fx1 <= fx0) continue;
      const src = ((b * inH + y) * inW + (fx0 - g.padLeft)) * inC;
      const dst = ((b * hp + fy) * wp + fx0) * ci;
      if (ci === inC) xp.set(xv.subarray(src, src + (fx1 - fx0) * inC), dst);
      else spread(xv, src, inC, xp, dst, ci, fx1 - fx0);
    }
  }
  const dv = s.view(dy);
  if (co === outC) mem.set(dv.subarray(0, dyFloats), dyAt / 4);
  else {
    const dyp = mem.subarray(dyAt / 4, dyAt / 4 + dyFloats);
    dyp.fill(0);
    spread(dv, 0, outC, dyp, 0, co, batch * outH * outW);
  }
  mem.fill(0, dwAt / 4, dwAt / 4 + dwFloats);
  k.filter_grad(xpAt, dyAt, dwAt, batch, outH, outW, g.kh, g.kw, ci, co);
  const dw = s.empty([g.kh, g.kw, inC, outC]);
  const got = new Float32Array(k.memory.buffer, dwAt, dwFloats);
  const out = s.view(dw);
  if (ci === inC && co === outC) out.set(got);
  else for (let r = 0; r < g.kh * g.kw * inC; r++) {
    const src = (Math.floor(r / inC) * ci + (r % inC)) * co;
    out.set(got.subarray(src, src + outC), r * outC);
  }
  return dw;
}

/** Copies `n` pixels of `c` channels from `src` (at `from`) to `dst` (at `to`), whose pixels are `stride` floats apart. */
function spread(src: Float32Array, from: number, c: number, dst: Float32Array, to: number, stride: number, n: number): void {
  for (let p = 0; p < n; p++, from += c, to += stride) for (let j = 0; j < c; j++) dst[to + j] = src[from + j];
}
