/**
 * Runs registered wasm kernels from inside another kernel and frees the intermediates.
 *
 * The training kernels in this folder are compositions of kernels the wasm backend already has
 * (XNNPACK `Conv2D`, `Transpose`, `Slice`, ...). A kernel function receives `TensorInfo`s, not tensors, so
 * it cannot use `tf.*` ops (they would be recorded on the tape); instead it calls the other kernels'
 * `kernelFunc`s directly and must free every intermediate with `backend.disposeData`.
 */
import { permutedView, stridedCopy, stridesOf } from './permute';
import { getKernel, type DataId, type KernelBackend, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** The part of the wasm backend the kernels use. */
export interface WasmBackendLike extends KernelBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
  /** Allocates an output tensor in the wasm heap (contents uninitialised). */
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  /** A view of a tensor's data in the wasm heap; invalid after the next allocation (the heap may grow). */
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** Attribute values accepted by the kernels called from here. */
type Attrs = Record<string, unknown>;

/**
 * A scope of intermediates: every tensor made by {@link KernelScope.run} is freed by
 * {@link KernelScope.dispose} unless it was handed out with {@link KernelScope.keep}.
 */
export class KernelScope {
  private readonly made: TensorInfo[] = [];

  constructor(
    readonly backend: WasmBackendLike,
    private readonly backendName = 'wasm',
  ) {}

  /** Runs kernel `name` of this backend; the result is an intermediate of this scope. */
  run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Attrs = {}): TensorInfo {
    const kernel = getKernel(name, this.backendName);
    if (!kernel) throw new Error(`sharpen-kd wasm training kernels: the ${this.backendName} backend has no ${name} kernel.`);
    const out = kernel.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, attrs: attrs as NamedAttrMap, backend: this.backend });
    const info = Array.isArray(out) ? out[0] : out;
    this.made.push(info);
    return info;
  }

  /** Transpose `x` by `perm` (a no-op returning `x` for the identity permutation). */
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  /** Reshape (shares the data of `x`). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Slice `x` from `begin` with `size`; returns `x` itself when the slice is the whole tensor. */
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** Zero-pads `x` by `[before, after]` per axis; returns `x` when every pad is 0. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** NHWC 2-D convolution by the backend's own (XNNPACK) `Conv2D` kernel, with explicit pads. */
  conv2d(x: TensorInfo, filter: TensorInfo, p: ConvParams): TensorInfo {
    return this.run('Conv2D', { x, filter }, convAttrs(p));
  }

  /** NHWC depthwise convolution by the backend's own `DepthwiseConv2dNative` kernel, with explicit pads. */
  depthwiseConv2d(x: TensorInfo, filter: TensorInfo, p: ConvParams): TensorInfo {
    return this.run('DepthwiseConv2dNative', { x, filter }, convAttrs(p));
  }

  /** A new float32 tensor of `shape` in the wasm heap, uninitialised; an intermediate of this scope. */
  empty(shape: number[]): TensorInfo {
    const t = this.backend.makeOutput(shape, 'float32');
    this.made.push(t);
    return t;
  }

  /** The data of `t` in the wasm heap. Take views only after the last allocation: the heap may grow. */
  view(t: TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t);
  }

  /**
   * `x` (rank <= 4) transposed by `perm` and (optionally) sliced from `begin` with `size` (both in the
   * permuted axes), in one tiled JS copy on the heap (`permute.ts`), where Transpose + Slice would make two.
   */
  permute(x: TensorInfo, perm: number[], begin?: number[], size?: number[]): TensorInfo {
    const shape = size ?? perm.map((p) => x.shape[p]);
    const out = this.empty(shape);
    const src = permutedView(this.view(x), x.shape, perm, begin);
    stridedCopy(src, { data: this.view(out), offset: 0, strides: stridesOf(shape) }, shape);
    return out;
  }

  /**
   * A conv filter `[KH, KW, Ci, Co]` flipped in both spatial dimensions and with its channels swapped:
   * `out[kh, kw, co, ci] = f[KH-1-kh, KW-1-kw, ci, co]`, the filter of the input gradient. One JS pass:
   * the backend's Reverse + Transpose took ~50 ns per element (9 ms for a 3x3x128x128 filter, more than
   * the convolution itself).
   */
  flipFilter(f: TensorInfo): TensorInfo {
    const [kh, kw, ci, co] = f.shape;
    const out = this.empty([kh, kw, co, ci]);
    const src = this.view(f);
    const dst = this.view(out);
    const plane = ci * co;
    for (let h = 0; h < kh; h++) {
      for (let w = 0; w < kw; w++) {
        const so = ((kh - 1 - h) * kw + (kw - 1 - w)) * plane;
        const d0 = (h * kw + w) * plane;
        // Transpose [ci, co] -> [co, ci] in 32x32 tiles.
        for (let i0 = 0; i0 < ci; i0 += 32) {
          const i1 = Math.min(ci, i0 + 32);
          for (let o0 = 0; o0 < co; o0 += 32) {
            const o1 = Math.min(co, o0 + 32);
            for (let o = o0; o < o1; o++) {
              const d = d0 + o * ci;
              for (let i = i0; i < i1; i++) dst[d + i] = src[so + i * co + o];
            }
          }
        }
      }
    }
    return out;
  }

  /** Frees intermediate `t` now (to return its memory, and its XNNPACK operator when it was a filter). */
  release(t: TensorInfo): void {
    const i = this.made.lastIndexOf(t);
    if (i < 0) return;
    this.made.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Stride-`strides` slice of `x` from `begin` (inclusive) to `end` (exclusive). */
  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    if (strides.every((v) => v === 1)) return this.slice(x, begin, end.map((e, i) => e - begin[i]));
    return this.run('StridedSlice', { x }, { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 });
  }

  /** A float32 scalar tensor holding `value`. */
  scalar(value: number): TensorInfo {
    const t = this.empty([]);
    this.view(t)[0] = value;
    return t;
  }

  /** A float32 tensor of `shape` filled with zeros. */
  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /**
   * Marks `t` as a result: it survives {@link KernelScope.dispose}. A `t` not made in this scope (an input
   * passed through) is wrapped in `Identity` so that the caller owns a reference of its own.
   */
  keep(t: TensorInfo): TensorInfo {
    let i = this.made.lastIndexOf(t);
    if (i < 0) {
      t = this.run('Identity', { x: t });
      i = this.made.length - 1;
    }
    this.made.splice(i, 1);
    return t;
  }

  /** Frees every intermediate not kept. */
  dispose(): void {
    for (const t of this.made) this.backend.disposeData(t.dataId);
    this.made.length = 0;
  }
}

/** Stride, dilation and explicit pads `[top, bottom, left, right]` of a convolution. */
export interface ConvParams {
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
}

function convAttrs(p: ConvParams): Attrs {
  const [t, b, l, r] = p.pads;
  const explicit = t || b || l || r;
  return {
    strides: p.strides,
    dilations: p.dilations,
    pad: explicit ? [[0, 0], [t, b], [l, r], [0, 0]] : 'valid',
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  };
}

/**
 * Runs `body` with a fresh {@link KernelScope}; the returned tensor is kept, everything else is freed
 * (also when `body` throws).
 */
export function withScope(backend: KernelBackend, body: (s: KernelScope) => TensorInfo, backendName = 'wasm'): TensorInfo {
  const scope = new KernelScope(backend as WasmBackendLike, backendName);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
