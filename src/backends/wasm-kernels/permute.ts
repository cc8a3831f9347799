/**
 * Cache-friendly strided copies on the wasm heap: transpose + slice in one pass.
 *
 * tfjs-backend-wasm's `Transpose` walks the output in order and reads the input with the permuted strides;
 * for permutations that move the batch axis next to channels (`[B,H,W,C] -> [C,H,W,B]`, which the filter
 * gradient needs) every read is a cache miss, ~15 ns per element. Here the two axes that are contiguous in
 * the input and in the output are walked in small tiles, so both sides stay in cache (~1 ns per element).
 */

/** A strided view: element `idx` (per axis) lives at `offset + sum(idx[k] * strides[k])`. */
export interface StridedView {
  data: Float32Array;
  offset: number;
  strides: number[];
}

const TILE = 16;

/**
 * Copies `shape`-sized data from `src` to `dst`, both strided views with one stride per axis of `shape`.
 * Walks `dst`'s last axis innermost; if that axis is not contiguous in `src`, tiles it with the axis that is.
 */
export function stridedCopy(src: StridedView, dst: StridedView, shape: number[]): void {
  const r = shape.length;
  if (shape.some((d) => d === 0)) return;
  const inner = r - 1;
  // The axis the source reads fastest along (smallest stride), if not the innermost destination axis.
  let fast = inner;
  for (let k = 0; k < r; k++) if (shape[k] > 1 && src.strides[k] < src.strides[fast]) fast = k;
  if (shape[inner] === 1 || src.strides[inner] === 1) fast = inner;
  const outer = [...Array(r).keys()].filter((k) => k !== inner && k !== fast);
  const idx = new Array<number>(outer.length).fill(0);
  const s = src.data;
  const d = dst.data;
  const nI = shape[inner];
  const sI = src.strides[inner];
  const dI = dst.strides[inner];
  const nF = fast === inner ? 1 : shape[fast];
  const sF = fast === inner ? 0 : src.strides[fast];
  const dF = fast === inner ? 0 : dst.strides[fast];
  for (;;) {
    let so = src.offset;
    let dOff = dst.offset;
    for (let q = 0; q < outer.length; q++) {
      so += idx[q] * src.strides[outer[q]];
      dOff += idx[q] * dst.strides[outer[q]];
    }
    if (fast === inner) {
      if (sI === 1 && dI === 1) d.set(s.subarray(so, so + nI), dOff);
      else for (let i = 0; i < nI; i++) d[dOff + i * dI] = s[so + i * sI];
    } else {
      for (let f0 = 0; f0 < nF; f0 += TILE) {
        const f1 = Math.min(nF, f0 + TILE);
        for (let i0 = 0; i0 < nI; i0 += TILE) {
          const i1 = Math.min(nI, i0 + TILE);
          for (let i = i0; i < i1; i++) {
            let sp = so + i * sI + f0 * sF;
            let dp = dOff + i * dI + f0 * dF;
            for (let f = f0; f < f1; f++, sp += sF, dp += dF) d[dp] = s[sp];
          }
        }
      }
    }
    // Next outer index (odometer).
    let q = outer.length - 1;
    while (q >= 0 && ++idx[q] === shape[outer[q]]) idx[q--] = 0;
    if (q < 0) return;
  }
}

/** Row-major strides of `shape`. */
export function stridesOf(shape: number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    st[k] = acc;
    acc *= shape[k];
  }
  return st;
}

/**
 * The strided view that reads a dense `shape` tensor transposed by `perm` and sliced from `begin`
 * (in the permuted axes): axis k of the result is axis `perm[k]` of the input.
 */
export function permutedView(data: Float32Array, shape: number[], perm: number[], begin?: number[]): StridedView {
  const st = stridesOf(shape);
  const strides = perm.map((p) => st[p]);
  const offset = begin ? begin.reduce((acc, b, k) => acc + b * strides[k], 0) : 0;
  return { data, offset, strides };
}
