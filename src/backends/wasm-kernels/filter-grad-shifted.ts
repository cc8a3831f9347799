/**
 * `Conv2DBackpropFilter` for stride 1 and dilation 1 as matrix products over shifted windows.
 *
 * Lay `x` out channel-major and zero-padded, `xt[ci, q]` with `q = (b, y, x)` over the padded frame
 * `[B, Hp, Wp] = [B, OH + KH - 1, OW + KW - 1]`, and `dy` in the same frame, `dyf[q, co]` (zero where `y >= OH` or
 * `x >= OW`). Then for the filter tap `(kh, kw)`, whose offset in the frame is `off = kh·Wp + kw`,
 *
 *     dw[kh, kw, ci, co] = Σ_q xt[ci, q + off] · dyf[q, co]
 *
 * (the zero rows and columns of `dyf` drop every window that would cross into the next image). The im2col rows
 * `col[(kh, kw, ci), q] = xt[ci, q + off]` are contiguous slices of `xt`, so building `col` is `KH·KW·Ci` row copies
 * (memcpy speed) instead of an element gather (`filter-grad-matmul.ts`), and one XNNPACK `BatchMatMul` of `col`
 * `[KH·KW·Ci, n]` by `dyf` `[n, Co]` gives `dw` in its `[KH, KW, Ci, Co]` layout. Used for small channel counts
 * (`preferShifted` in conv2d-backprop-filter.ts), where `col` stays under {@link COL_FLOATS}.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope';
import type { FilterGradGeometry } from './filter-grad-matmul';

/** Largest `col` matrix, in floats (16 MB). */
export const COL_FLOATS = 1 << 22;

/** `dw` `[KH, KW, Ci, Co]` of a stride-1, dilation-1 `y = conv2d(x, w)`; same contract as `filterGradByConv`. */
export function filterGradShifted(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  if (g.strides[0] !== 1 || g.strides[1] !== 1 || g.dilations[0] !== 1 || g.dilations[1] !== 1) throw new Error('filterGradShifted: stride 1 and dilation 1 only');
  const [batch, inH, inW, inC] = x.shape;
  const [, outH, outW, outC] = dy.shape;
  const hp = outH + g.kh - 1;
  const wp = outW + g.kw - 1;
  const frame = hp * wp;
  const total = batch * frame;
  // dyf is non-zero only before position n (the last image's last output pixel).
  const n = total - (g.kh - 1) * wp - (g.kw - 1);
  const taps = g.kh * g.kw;
  const xt = s.empty([inC, total]);
  const dyf = s.empty([1, n, outC]);
  const col = s.empty([1, taps * inC, n]);
  // Views after the allocations (the heap may grow).
  const xv = s.view(x);
  const xtv = s.view(xt);
  xtv.fill(0);
  // xt[ci, b, y + padTop, x + padLeft] = x[b, y, x, ci], for the pixels that land inside the frame.
  const x0 = Math.max(0, -g.padLeft);
  const x1 = Math.min(inW, wp - g.padLeft);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < inH; y++) {
      const fy = y + g.padTop;
      if (fy < 0 || fy >= hp) continue;
      for (let ci = 0; ci < inC; ci++) {
        let src = ((b * inH + y) * inW + x0) * inC + ci;
        const dst = ci * total + b * frame + fy * wp + g.padLeft;
        for (let xx = x0; xx < x1; xx++, src += inC) xtv[dst + xx] = xv[src];
      }
    }
  }
  // dyf[(b, y, x), co] = dy[b, y, x, co]: whole rows of dy; the frame's extra columns and rows stay zero.
  const dv = s.view(dy);
  const dfv = s.view(dyf);
  dfv.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < outH; y++) {
      const src = (b * outH + y) * outW * outC;
      dfv.set(dv.subarray(src, src + outW * outC), (b * frame + y * wp) * outC);
    }
  }
  // col[(kh, kw, ci), q] = xt[ci, q + kh·Wp + kw].
  const cv = s.view(col);
  for (let t = 0; t < taps; t++) {
    const off = Math.floor(t / g.kw) * wp + (t % g.kw);
    for (let ci = 0; ci < inC; ci++) cv.set(xtv.subarray(ci * total + off, ci * total + off + n), (t * inC + ci) * n);
  }
  s.release(xt);
  const dw = s.run('BatchMatMul', { a: col, b: dyf }, { transposeA: false, transposeB: false });
  s.release(col);
  s.release(dyf);
  return s.reshape(dw, [g.kh, g.kw, inC, outC]);
}
