/**
 * `Conv2DBackpropFilter` for stride 1 and dilation 1 by the library's own WebAssembly SIMD loop (`filter_grad` in
 * `heap-simd.wat`): the compact students' 16→16 3×3 layers, whose filter gradient is a reduction over 16K pixels into
 * a 9×16×16 result, a shape XNNPACK's matrix products are not made for (they need a 10 MB im2col matrix built first,
 * and ran the product at a third of this loop's speed).
 *
 * `x` is copied once, zero-padded to the frame the filter slides over; the loop reads it and `dy` in the backend's
 * heap and accumulates into `dw` there, one output row at a time. Channel counts that are not multiples of 4 (in)
 * and 8 (out) are padded with zeros in copies, and the extra gradients dropped.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope';
import type { FilterGradGeometry } from './filter-grad-matmul';
import { heapAddress, heapSimd, paddedFrame, spreadPixels } from './heap-simd';

/**
 * Whether the SIMD loop takes this geometry on `s`'s backend: stride and dilation 1, and the kernels available. On
 * every student and ResNet-teacher shape measured (`lab/scripts/bench-filter-grad.ts`) it beat the other
 * formulations, by 1.3× (3 input channels) to 7×.
 */
export function canFilterGradSimd(s: KernelScope, g: FilterGradGeometry): boolean {
  const unit = g.strides.every((v) => v === 1) && g.dilations.every((v) => v === 1);
  return unit && heapSimd(s.backend) !== null;
}

/** `dw` `[KH, KW, Ci, Co]` of a stride-1, dilation-1 `y = conv2d(x, w)`; same contract as `filterGradByConv`. */
export function filterGradSimd(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const k = heapSimd(s.backend);
  if (!k || !canFilterGradSimd(s, g)) throw new Error('filterGradSimd: stride 1, dilation 1 and WebAssembly SIMD only');
  const [batch, , , inC] = x.shape;
  const [, outH, outW, outC] = dy.shape;
  // Channels as the loop takes them: zero channels added (their gradients are computed and dropped).
  const ci = Math.ceil(inC / 4) * 4;
  const co = Math.ceil(outC / 8) * 8;
  const hp = outH + g.kh - 1;
  const wp = outW + g.kw - 1;
  const exact = ci === inC && co === outC;
  const dw = s.empty([g.kh, g.kw, inC, outC]);
  if (batch * outH * outW === 0) {
    s.view(dw).fill(0);
    return dw;
  }
  const xp = paddedFrame(s, x, hp, wp, g.padTop, g.padLeft, ci);
  const dyp = co === outC ? dy : s.empty([batch, outH, outW, co]);
  const acc = exact ? dw : s.empty([g.kh, g.kw, ci, co]);
  if (dyp !== dy) {
    const v = s.view(dyp);
    v.fill(0);
    spreadPixels(s.view(dy), 0, outC, v, 0, co, batch * outH * outW);
  }
  s.view(acc).fill(0);
  k.filter_grad(heapAddress(s, xp), heapAddress(s, dyp), heapAddress(s, acc), batch, outH, outW, g.kh, g.kw, ci, co);
  if (!exact) {
    const [got, out] = [s.view(acc), s.view(dw)];
    for (let r = 0; r < g.kh * g.kw * inC; r++) {
      const src = (Math.floor(r / inC) * ci + (r % inC)) * co;
      out.set(got.subarray(src, src + outC), r * outC);
    }
  }
  return dw;
}
