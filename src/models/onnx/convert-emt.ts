/**
 * ONNX translations of EMT's two weightless layers (NCHW inside the graph, H and W symbolic):
 *
 * - {@link ChannelShift}: (circular or zero) padding by one pixel, then a grouped 3×3 `Conv` with the fixed one-hot
 *   kernel. Circular padding is two Slice + Concat pairs (ONNX `Pad` has no wrap mode before opset 19).
 * - {@link StripedWindowAttention}: per window shape, reflect `Pad` to window multiples (amounts from `Shape`),
 *   roll (Slice + Concat), Reshape to `[N, 2, heads, d, nh, wh, nw, ww]`, Transpose to windows, channel-major
 *   (`[d, tokens]`: the transpose moves rows of `ww` values, where tokens-major `[tokens, d]` moved single ones; about
 *   1.1–1.2× faster in ONNX Runtime, `lab/scripts/bench-emt-onnx.ts`), `MatMul` qᵀ·q, `Softmax`, `MatMul` v·attnᵀ (ONNX
 *   Runtime folds both transposes into its MatMul), and back the same way; the splits' outputs are concatenated.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { channelShiftKernel, type ChannelShiftMode } from '../layers/channel-shift';
import { attr, type OnnxGraph } from './onnx-model';

const END = 2 ** 62; // "to the end" for Slice

/** `[c, 1, 3, 3]` ONNX kernel of a channel shift, from the `[3, 3, C, 1]` TF.js one. */
function shiftKernelNchw(mode: ChannelShiftMode, c: number): Float32Array {
  const k = channelShiftKernel(mode, c);
  const out = new Float32Array(9 * c);
  for (let ch = 0; ch < c; ch++) for (let tap = 0; tap < 9; tap++) out[ch * 9 + tap] = k[tap * c + ch];
  return out;
}

/** Reflect rounds (each at most size − 1) that take a 2-pixel side to `window` pixels: sizes 2, 3, 5, 9, 17, 33, ... */
function reflectRounds(window: number): number {
  let rounds = 1;
  for (let size = 3; size < window; size = 2 * size - 1) rounds++;
  return rounds;
}

/** Rows or columns `[start, end)` of `x` along `axis` (negative = from the end). */
function slice(g: OnnxGraph, x: string, axis: number, start: number, end: number, base: string): string {
  return g.add('Slice', [x, g.intConst(`${base}/starts`, [start]), g.intConst(`${base}/ends`, [end]), g.intConst(`${base}/axes`, [axis])], base);
}

/** `torch.roll` along `axis` by a static `s` (either sign): `concat(x[−s:], x[:−s])`, with a symbolic size. */
function roll(g: OnnxGraph, x: string, axis: number, s: number, base: string): string {
  if (s === 0) return x;
  return g.add('Concat', [slice(g, x, axis, -s, END, `${base}_a`), slice(g, x, axis, 0, -s, `${base}_b`)], base, { axis: attr.int(axis) });
}

/** @internal ONNX nodes of a {@link ChannelShift} layer. */
export function convertChannelShift(g: OnnxGraph, layer: tfl.layers.Layer, x: string, channels: number): string {
  const n = layer.name;
  const mode = (layer.getConfig() as { mode: ChannelShiftMode }).mode;
  const kernel = g.floatConst(`${n}/kernel`, [channels, 1, 3, 3], shiftKernelNchw(mode, channels));
  if (mode === 'shift-conv') {
    return g.add('Conv', [x, kernel], n, { group: attr.int(channels), kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  }
  const rows = g.add('Concat', [slice(g, x, 2, -1, END, `${n}_bottom`), x, slice(g, x, 2, 0, 1, `${n}_top`)], `${n}_wrap_rows`, { axis: attr.int(2) });
  const both = g.add('Concat', [slice(g, rows, 3, -1, END, `${n}_right`), rows, slice(g, rows, 3, 0, 1, `${n}_left`)], `${n}_wrap`, { axis: attr.int(3) });
  return g.add('Conv', [both, kernel], n, { group: attr.int(channels), kernel_shape: attr.ints([3, 3]), pads: attr.ints([0, 0, 0, 0]) });
}

/** @internal ONNX nodes of a {@link StripedWindowAttention} layer on an NCHW `qv` tensor with `channels` channels. */
export function convertStripedWindowAttention(g: OnnxGraph, layer: tfl.layers.Layer, x: string, channels: number): string {
  const n = layer.name;
  const { heads, windows, shifts } = layer.getConfig() as { heads: number; windows: [number, number][]; shifts: [number, number][] };
  const split = channels / windows.length;
  const d = split / 2 / heads;
  const shape = g.add('Shape', [x], `${n}_shape`);
  const nDim = slice(g, shape, 0, 0, 1, `${n}_n`);
  const hw = slice(g, shape, 0, 2, 4, `${n}_hw`);
  const outs = windows.map(([wh, ww], i) => {
    const b = `${n}_w${i}`;
    const [sy, sx] = shifts[i];
    const part = slice(g, x, 1, i * split, (i + 1) * split, `${b}_split`);
    // Reflect-pad bottom/right to window multiples: amount = [(wh − H % wh) % wh, (ww − W % ww) % ww]. As in
    // `reflectPadTo`, each reflect Pad adds at most size − 1 (ONNX, like PyTorch, rejects more), for as many rounds
    // as a 2-pixel side needs to reach a window, and an edge Pad finishes a 1-pixel side. For inputs of at least half
    // a window the first round does it all and the rest pad nothing.
    const m = g.intConst(`${b}/window`, [wh, ww]);
    const amount = g.add('Mod', [g.add('Sub', [m, g.add('Mod', [hw, m], `${b}_rem`)], `${b}_sub`), m], `${b}_amount`);
    const zeros = g.intConst(`${b}/zeros`, [0, 0, 0, 0, 0, 0]);
    const one = g.intConst(`${b}/one`, [1]);
    let y = part;
    let rest = amount;
    for (let r = 0; r < reflectRounds(Math.max(wh, ww)); r++) {
      const size = slice(g, g.add('Shape', [y], `${b}_shape${r}`), 0, 2, 4, `${b}_size${r}`);
      const step = g.add('Min', [rest, g.add('Sub', [size, one], `${b}_room${r}`)], `${b}_step${r}`);
      y = g.add('Pad', [y, g.add('Concat', [zeros, step], `${b}_pads${r}`, { axis: attr.int(0) })], `${b}_pad${r}`, { mode: attr.string('reflect') });
      rest = g.add('Sub', [rest, step], `${b}_rest${r}`);
    }
    y = g.add('Pad', [y, g.add('Concat', [zeros, rest], `${b}_pads_edge`, { axis: attr.int(0) })], `${b}_pad_edge`, { mode: attr.string('edge') });
    y = roll(g, roll(g, y, 2, sy, `${b}_roll_h`), 3, sx, `${b}_roll_w`);
    // Windows, channel-major: [N, 2, heads, d, nh, wh, nw, ww] → [2, N, heads, nh, nw, d, wh, ww] → [2, B, d, wh·ww].
    // The transposes move rows of ww contiguous values, not single ones (tokens × d would put d innermost).
    const padded = g.add('Add', [hw, amount], `${b}_padded_hw`);
    const counts = g.add('Div', [padded, m], `${b}_counts`); // [nh, nw]
    const nh = slice(g, counts, 0, 0, 1, `${b}_nh`);
    const nw = slice(g, counts, 0, 1, 2, `${b}_nw`);
    const c = (name: string, v: number[]) => g.intConst(`${b}/${name}`, v);
    const split8 = g.add('Concat', [nDim, c('qv_heads_d', [2, heads, d]), nh, c('wh', [wh]), nw, c('ww', [ww])], `${b}_shape8`, { axis: attr.int(0) });
    const win = g.add('Transpose', [g.add('Reshape', [y, split8], `${b}_r8`)], `${b}_t8`, { perm: attr.ints([1, 0, 2, 4, 6, 3, 5, 7]) });
    const tokens = g.add('Reshape', [win, c('tokens', [2, -1, d, wh * ww])], `${b}_tokens`);
    const q = g.add('Gather', [tokens, g.intConst(`${b}/q`, [0], [])], `${b}_q`, { axis: attr.int(0) }); // [B, d, T]
    const v = g.add('Gather', [tokens, g.intConst(`${b}/v`, [1], [])], `${b}_v`, { axis: attr.int(0) });
    // logits = qᵀq ([B, T, T], row = query), out = v·attnᵀ ([B, d, T]); ONNX Runtime folds both transposes into its MatMul.
    const logits = g.add('MatMul', [g.add('Transpose', [q], `${b}_qt`, { perm: attr.ints([0, 2, 1]) }), q], `${b}_logits`);
    const attn = g.add('Softmax', [logits], `${b}_softmax`, { axis: attr.int(-1) });
    const o = g.add('MatMul', [v, g.add('Transpose', [attn], `${b}_attn_t`, { perm: attr.ints([0, 2, 1]) })], `${b}_out`); // [N·heads·nh·nw, d, wh·ww]
    // Back: [N, heads, nh, nw, d, wh, ww] → [N, heads, d, nh, wh, nw, ww] → [N, heads·d, H', W'].
    const shape7 = g.add('Concat', [nDim, c('heads', [heads]), nh, nw, c('d_win', [d, wh, ww])], `${b}_shape7`, { axis: attr.int(0) });
    const back = g.add('Transpose', [g.add('Reshape', [o, shape7], `${b}_r7`)], `${b}_t7`, { perm: attr.ints([0, 1, 4, 2, 5, 3, 6]) });
    const shape4 = g.add('Concat', [nDim, c('channels', [heads * d]), padded], `${b}_shape4`, { axis: attr.int(0) });
    let z = g.add('Reshape', [back, shape4], `${b}_image`);
    z = roll(g, roll(g, z, 2, -sy, `${b}_unroll_h`), 3, -sx, `${b}_unroll_w`);
    return g.add('Slice', [z, g.intConst(`${b}/crop_starts`, [0, 0]), hw, g.intConst(`${b}/crop_axes`, [2, 3])], `${b}_crop`);
  });
  return outs.length === 1 ? g.add('Identity', outs, n) : g.add('Concat', outs, n, { axis: attr.int(1) });
}
