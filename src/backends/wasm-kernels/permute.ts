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

/**
 * Tile edge of the two-axis copy. Within a tile one side is written or read with a large stride; with
 * strides that are multiples of a large power of two (48x48 patches, batch 16) those lines all land in the
 * same cache set, and more than 8 of them (the associativity) thrash: tiles of 16 and 32 measured 2x and
 * 6x slower than 8.
 */
const TILE = 8;

/**
 * Copies `shape`-sized data from `src` to `dst`, both strided views with one stride per axis of `shape`
 * (rank <= 4). Walks `dst`'s last axis innermost; if that axis is not contiguous in `src`, tiles it with
 * the axis that is, so that reads and writes both stay within a few cache lines.
 */
export function stridedCopy(src: StridedView, dst: StridedView, shape: number[]): void {
  if (shape.length > 4) throw new Error(`stridedCopy supports rank <= 4, got ${shape.length}`);
  if (shape.some((d) => d === 0)) return;
  // Prepend unit axes up to rank 4.
  const pad = 4 - shape.length;
  const n = [...Array(pad).fill(1), ...shape];
  const ss = [...Array(pad).fill(0), ...src.strides];
  const ds = [...Array(pad).fill(0), ...dst.strides];
  // The axis the source reads fastest along (smallest stride), unless the innermost axis already is.
  let fast = 3;
  if (n[3] > 1 && ss[3] !== 1) for (let k = 0; k < 3; k++) if (n[k] > 1 && ss[k] < ss[fast]) fast = k;
  // Loop order: the two remaining axes, then `fast` (if tiled), then the innermost axis.
  const order = fast === 3 ? [0, 1, 2, 3] : [...[0, 1, 2].filter((k) => k !== fast), fast, 3];
  const [a, b, f, i] = order;
  const [nA, nB, nF, nI] = [n[a], n[b], n[f], n[i]];
  const [sA, sB, sF, sI] = [ss[a], ss[b], ss[f], ss[i]];
  const [dA, dB, dF, dI] = [ds[a], ds[b], ds[f], ds[i]];
  const S = src.data;
  const D = dst.data;
  for (let ia = 0; ia < nA; ia++) {
    for (let ib = 0; ib < nB; ib++) {
      const so = src.offset + ia * sA + ib * sB;
      const dOff = dst.offset + ia * dA + ib * dB;
      if (fast === 3) {
        // Contiguous runs along the innermost axis.
        for (let jf = 0; jf < nF; jf++) {
          let sp = so + jf * sF;
          let dp = dOff + jf * dF;
          if (sI === 1 && dI === 1) for (let e = sp + nI; sp < e; ) D[dp++] = S[sp++];
          else for (let ii = 0; ii < nI; ii++, sp += sI, dp += dI) D[dp] = S[sp];
        }
        continue;
      }
      for (let f0 = 0; f0 < nF; f0 += TILE) {
        const f1 = Math.min(nF, f0 + TILE);
        for (let i0 = 0; i0 < nI; i0 += TILE) {
          const i1 = Math.min(nI, i0 + TILE);
          for (let ii = i0; ii < i1; ii++) {
            let sp = so + ii * sI + f0 * sF;
            let dp = dOff + ii * dI + f0 * dF;
            for (let jf = f0; jf < f1; jf++, sp += sF, dp += dF) D[dp] = S[sp];
          }
        }
      }
    }
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
