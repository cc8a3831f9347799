/**
 * `Conv2DBackpropFilter` as matrix products (im2col): with `col[(kh, kw, ci), p] = x[b, oh*s + kh*d - pt,
 * ow*s + kw*d - pl, ci]` for each output position `p = (b, oh, ow)` (zero outside the image),
 *
 *     dw[(kh, kw, ci), co] = sum_p col[(kh, kw, ci), p] * dy[p, co]
 *
 * which is one XNNPACK `BatchMatMul` of `col` `[KH*KW*Ci, P]` by `dy` `[P, Co]` (dy as it is in memory). `col`
 * is written by a JS gather, in chunks of whole output rows so that it stays under {@link COL_CHUNK} floats;
 * the partial products are summed. For 1x1 filters `col` is just `x` transposed, and this is 10-20x faster
 * than the convolution formulation (`conv2d-backprop-filter.ts`), whose inner convolution has an output of
 * 1x1 pixel and an input as large as the activations: XNNPACK's worst case.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope';

/** Geometry of a filter-gradient correlation (both formulations, this one and `conv2d-backprop-filter.ts`). */
export interface FilterGradGeometry {
  /** Filter height and width. */
  kh: number;
  kw: number;
  strides: [number, number];
  dilations: [number, number];
  /** Top and left pads of the forward pass (bottom/right follow from the shapes). */
  padTop: number;
  padLeft: number;
}

/** Largest im2col block, in floats (16 MB). */
const COL_CHUNK = 1 << 22;

/** Writes `col` rows for output rows `[r0, r1)` of the flattened `(b, oh)` axis. */
function gather(
  xv: Float32Array,
  col: Float32Array,
  x: { h: number; w: number; c: number },
  out: { h: number; w: number },
  g: FilterGradGeometry,
  r0: number,
  r1: number,
): void {
  const np = (r1 - r0) * out.w;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  for (let kh = 0; kh < g.kh; kh++) {
    for (let kw = 0; kw < g.kw; kw++) {
      const rowBase = (kh * g.kw + kw) * x.c;
      const iw0 = kw * dw - g.padLeft;
      // Output columns whose input column is inside the image: ow in [owLo, owHi).
      const owLo = Math.min(out.w, Math.max(0, Math.ceil(-iw0 / sw)));
      const owHi = Math.max(owLo, Math.min(out.w, Math.floor((x.w - 1 - iw0) / sw) + 1));
      for (let row = r0; row < r1; row++) {
        const b = (row / out.h) | 0;
        const oh = row - b * out.h;
        const ih = oh * sh + kh * dh - g.padTop;
        const j0 = (row - r0) * out.w;
        if (ih < 0 || ih >= x.h) {
          for (let ci = 0; ci < x.c; ci++) col.fill(0, (rowBase + ci) * np + j0, (rowBase + ci) * np + j0 + out.w);
          continue;
        }
        const xRow = (b * x.h + ih) * x.w;
        for (let ci = 0; ci < x.c; ci++) {
          const d = (rowBase + ci) * np + j0;
          for (let ow = 0; ow < owLo; ow++) col[d + ow] = 0;
          let src = (xRow + iw0 + owLo * sw) * x.c + ci;
          const step = sw * x.c;
          for (let ow = owLo; ow < owHi; ow++, src += step) col[d + ow] = xv[src];
          for (let ow = owHi; ow < out.w; ow++) col[d + ow] = 0;
        }
      }
    }
  }
}

/**
 * `dw` `[KH, KW, Ci, Co]` of `y = conv2d(x, w)` from `x` `[B, H, W, Ci]` and `dy` `[B, OH, OW, Co]`, by im2col
 * and XNNPACK matrix products; same contract as `filterGradByConv`.
 */
export function filterGradByMatMul(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const [batch, inH, inW, inC] = x.shape;
  const [, outH, outW, outC] = dy.shape;
  const R = g.kh * g.kw * inC;
  const rows = batch * outH;
  const rowsPerChunk = Math.max(1, Math.min(rows, Math.floor(COL_CHUNK / (R * outW))));
  const result = s.empty([g.kh, g.kw, inC, outC]);
  const dy3 = s.reshape(dy, [1, rows * outW, outC]);
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const r1 = Math.min(rows, r0 + rowsPerChunk);
    const np = (r1 - r0) * outW;
    const col = s.empty([1, R, np]);
    gather(s.view(x), s.view(col), { h: inH, w: inW, c: inC }, { h: outH, w: outW }, g, r0, r1);
    const dyc = s.slice(dy3, [0, r0 * outW, 0], [1, np, outC]);
    const part = s.run('BatchMatMul', { a: col, b: dyc }, { transposeA: false, transposeB: false });
    s.release(col);
    if (dyc !== dy3) s.release(dyc);
    const pv = s.view(part);
    const rv = s.view(result);
    if (r0 === 0) rv.set(pv);
    else for (let i = 0; i < rv.length; i++) rv[i] += pv[i];
    s.release(part);
  }
  return result;
}
