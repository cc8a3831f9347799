/**
 * Input gradient of a convolution with few input channels (the first layer of an RGB model) by a 1x1
 * XNNPACK convolution and a scatter-add ("col2im").
 *
 * The stride-phase convolutions of `transposed-conv.ts` produce Ci output channels; XNNPACK computes 8
 * channels at a time, so with Ci = 3 most of its work is wasted. Instead:
 *
 *     P[b, oh, ow, (kh, kw, ci)] = sum_co dy[b, oh, ow, co] * w[kh, kw, ci, co]      (1x1 conv, KH*KW*Ci outputs)
 *     dx[b, oh*s + kh - pt, ow*s + kw - pl, ci] += P[b, oh, ow, (kh, kw, ci)]          (scatter-add in JS)
 *
 * Same FLOPs, computed with wide output rows; the scatter-add is one pass over P. Any stride.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope';

/** Largest P (floats) per batch chunk, to bound the intermediate's memory. */
const MAX_P = 1 << 22;

/** Whether {@link inputGradByCol2im} beats the phase convolutions for this filter `[KH, KW, Ci, Co]`. */
export function preferCol2im(filterShape: number[]): boolean {
  const [kh, kw, ci] = filterShape;
  return ci < 8 && kh * kw > 1;
}

/** `dx` `[B, H, W, Ci]` of a convolution with `filter` `[KH, KW, Ci, Co]`, stride s and top/left pads pt/pl. */
export function inputGradByCol2im(
  s: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  inShape: [number, number, number, number],
  strides: [number, number],
  padTop: number,
  padLeft: number,
): TensorInfo {
  const [batch, inH, inW, inC] = inShape;
  const [, outH, outW, outC] = dy.shape;
  const [kh, kw] = filter.shape;
  const taps = kh * kw * inC;
  // [KH, KW, Ci, Co] -> [1, 1, Co, KH*KW*Ci]
  const w1 = s.reshape(s.transpose(s.reshape(filter, [taps, outC]), [1, 0]), [1, 1, outC, taps]);
  const dx = s.empty(inShape);
  s.view(dx).fill(0);
  const chunk = Math.max(1, Math.floor(MAX_P / (outH * outW * taps)));
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const nb = Math.min(chunk, batch - b0);
    const dyc = s.slice(dy, [b0, 0, 0, 0], [nb, outH, outW, outC]);
    const p = s.conv2d(dyc, w1, { strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] });
    if (dyc !== dy) s.release(dyc);
    scatterAdd(s.view(p), s.view(dx), { b0, nb, inH, inW, inC, outH, outW, kh, kw, sh: strides[0], sw: strides[1], pt: padTop, pl: padLeft });
    s.release(p);
  }
  return dx;
}

interface ScatterGeometry {
  b0: number;
  nb: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

function scatterAdd(p: Float32Array, dx: Float32Array, g: ScatterGeometry): void {
  const rowTaps = g.kw * g.inC; // P values of one (kh) row of taps, contiguous
  const taps = g.kh * rowTaps;
  for (let b = 0; b < g.nb; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let i = 0; i < g.kh; i++) {
        const ih = oh * g.sh + i - g.pt;
        if (ih < 0 || ih >= g.inH) continue;
        const dxRow = ((g.b0 + b) * g.inH + ih) * g.inW;
        for (let ow = 0; ow < g.outW; ow++) {
          const iw0 = ow * g.sw - g.pl;
          // Taps j with 0 <= iw0 + j < W, as a contiguous run of (j, ci).
          const j0 = Math.max(0, -iw0);
          const j1 = Math.min(g.kw, g.inW - iw0);
          if (j1 <= j0) continue;
          const src = ((b * g.outH + oh) * g.outW + ow) * taps + i * rowTaps + j0 * g.inC;
          const dst = (dxRow + iw0 + j0) * g.inC;
          const n = (j1 - j0) * g.inC;
          for (let k = 0; k < n; k++) dx[dst + k] += p[src + k];
        }
      }
    }
  }
}
