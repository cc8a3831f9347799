/**
 * Input gradient of a strided convolution (= transposed convolution) by XNNPACK forward convolutions,
 * without multiplying zeros.
 *
 * For `y = conv(x, w)` with stride s and top pad pt (per spatial dimension, dilation 1):
 *
 *     dx[ih] = sum_{kh, oh : oh*s + kh - pt = ih} dy[oh] * w[kh]
 *
 * With stride 1 this is one convolution of `dy` with the spatially flipped filter. With stride s the rows
 * `ih = q*s + r` of one phase r only meet the taps `kh = c + j*s` with `c = (r + pt) mod s`, so each of
 * the s*s phases is a dense convolution of `dy` with a sub-filter of those taps (flipped), and the phases
 * interleave into `dx`. That costs exactly the forward convolution's FLOPs, where dilating `dy` with
 * zeros would cost s*s times more.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvParams, KernelScope } from './kernel-scope';

/** Where one phase's taps and pads come from, for one spatial dimension. */
interface PhasePlan {
  /** Number of filter taps in this phase (0: the phase gets no contribution). */
  taps: number;
  /** First tap in the flipped filter. */
  start: number;
  /** Explicit pads of the phase convolution. */
  padBefore: number;
  padAfter: number;
  /** Output rows of the phase convolution to drop at the start. */
  crop: number;
}

function planPhase(r: number, k: number, s: number, pt: number, outLen: number, phaseLen: number): PhasePlan {
  const c = (r + pt) % s;
  const taps = c < k ? Math.ceil((k - c) / s) : 0;
  const e = Math.floor((r + pt) / s);
  const before = taps - 1 - e;
  const after = phaseLen + e - outLen;
  return {
    taps,
    start: k - 1 - c - (taps - 1) * s,
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
    crop: Math.max(0, -before),
  };
}

/** What {@link inputGradByConv} needs to know about the forward convolution. */
export interface TransposedConvGeometry {
  /** Shape of `dx`, `[B, H, W, C]` (C as produced by `conv`, before any post-processing). */
  outShape: [number, number, number, number];
  strides: [number, number];
  padTop: number;
  padLeft: number;
}

/**
 * `dx` of a stride-s convolution. `flipped` is the filter already flipped in both spatial dimensions and laid
 * out for `conv` (`[KH, KW, Cdy, Cdx]` for a dense conv, `[KH, KW, C, 1]` for a depthwise one); `conv` runs
 * one stride-1 forward convolution with explicit pads. Returns `[B, H, W, C]`.
 */
export function inputGradByConv(
  s: KernelScope,
  dy: TensorInfo,
  flipped: TensorInfo,
  g: TransposedConvGeometry,
  conv: (x: TensorInfo, filter: TensorInfo, p: ConvParams) => TensorInfo,
): TensorInfo {
  const [batch, inH, inW, channels] = g.outShape;
  const [sh, sw] = g.strides;
  const [kh, kw] = flipped.shape;
  const [, outH, outW] = dy.shape;
  const qh = Math.ceil(inH / sh);
  const qw = Math.ceil(inW / sw);
  const phases: Array<Phase | null> = [];
  for (let rh = 0; rh < sh; rh++) {
    const ph = planPhase(rh, kh, sh, g.padTop, outH, qh);
    for (let rw = 0; rw < sw; rw++) {
      const pw = planPhase(rw, kw, sw, g.padLeft, outW, qw);
      if (ph.taps === 0 || pw.taps === 0) {
        phases.push(null);
        continue;
      }
      const sub = s.stridedSlice(flipped, [ph.start, pw.start, 0, 0], [kh, kw, flipped.shape[2], flipped.shape[3]], [sh, sw, 1, 1]);
      const y = conv(dy, sub, { strides: [1, 1], dilations: [1, 1], pads: [ph.padBefore, ph.padAfter, pw.padBefore, pw.padAfter] });
      phases.push({ y, cropH: ph.crop, cropW: pw.crop });
    }
  }
  if (phases.length === 1 && phases[0]) {
    return s.slice(phases[0].y, [0, phases[0].cropH, phases[0].cropW, 0], [batch, inH, inW, channels]);
  }
  return interleave(s, phases, g.outShape, sh, sw);
}

/** One phase's convolution output and the rows/cols at its start that belong to no phase row. */
interface Phase {
  y: TensorInfo;
  cropH: number;
  cropW: number;
}

/**
 * `dx[b, q*sh + rh, p*sw + rw, c] = phase[rh*sw + rw][b, q + cropH, p + cropW, c]` (0 for missing
 * phases), cropped to `outShape`: one pass over the wasm heap, where Pack + rank-5 Transpose + Slice would
 * make three (and the wasm backend's rank-5 transpose is a slow generic loop).
 */
function interleave(s: KernelScope, phases: Array<Phase | null>, outShape: number[], sh: number, sw: number): TensorInfo {
  const [batch, inH, inW, channels] = outShape;
  const out = s.empty(outShape);
  const o = s.view(out);
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const phase = phases[rh * sw + rw];
      const src = phase ? s.view(phase.y) : null;
      const [, ph, pw] = phase ? phase.y.shape : [0, 0, 0];
      for (let b = 0; b < batch; b++) {
        for (let q = 0, ih = rh; ih < inH; q++, ih += sh) {
          for (let p = 0, iw = rw; iw < inW; p++, iw += sw) {
            const dst = ((b * inH + ih) * inW + iw) * channels;
            if (!src || !phase) {
              o.fill(0, dst, dst + channels);
              continue;
            }
            const from = ((b * ph + q + phase.cropH) * pw + p + phase.cropW) * channels;
            for (let c = 0; c < channels; c++) o[dst + c] = src[from + c];
          }
        }
      }
    }
  }
  return out;
}

/**
 * Inserts `d - 1` zeros between the taps of a filter `[KH, KW, A, B]` (dilation d), giving
 * `[(KH-1)*dh+1, (KW-1)*dw+1, A, B]`, so that a dilated convolution can run as an undilated one.
 */
export function dilateFilter(s: KernelScope, w: TensorInfo, dh: number, dw: number): TensorInfo {
  if (dh === 1 && dw === 1) return w;
  const [kh, kw, a, b] = w.shape;
  const spread = s.pad(s.reshape(w, [kh, 1, kw, 1, a * b]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0]]);
  const full = s.reshape(spread, [kh * dh, kw * dw, a, b]);
  return s.slice(full, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, a, b]);
}
