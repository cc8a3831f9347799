/**
 * Striped-window self-attention (SWSA), the global token mixer of EMT (Zheng et al. 2023), without its weights:
 * the 1×1 convolution (+ BatchNorm) that makes the `qv` tensor comes before this layer, the 1×1 projection after it.
 *
 * The `qv` channels are split evenly between the window shapes (EMT: a tall 32×8 and a wide 8×32 stripe). For each
 * split:
 *
 *   reflect-pad bottom/right to window multiples ─ roll by the shift (shifted layers only)
 *   ─ per window and head: q = first half of the channels, v = second half, A = softmax(q·qᵀ) (no 1/√d scaling,
 *     and the keys are the queries), out = A·v ─ roll back ─ crop ─ concatenate the splits' outputs
 *
 * Channel layout of a split: `(qv, head, c)`, output `(head, c)`, as in the reference implementation. The roll is
 * cyclic and unmasked, so tokens wrapped across the border attend to each other, exactly as in the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Constructor arguments of {@link StripedWindowAttention}.
 *
 * @example
 * ```ts
 * const args: StripedWindowAttentionArgs = { heads: 3, windows: [[32, 8], [8, 32]], shifts: [[16, 4], [4, 16]] };
 * ```
 */
export interface StripedWindowAttentionArgs {
  /** Attention heads per window shape. */
  heads: number;
  /** Window shapes `[rows, cols]`; the channels are split evenly between them. */
  windows: [number, number][];
  /** Cyclic shift `[rows, cols]` per window shape (omit for an unshifted layer). */
  shifts?: [number, number][];
  name?: string;
}

/**
 * Reflect-pads (no edge repeat, PyTorch's `'reflect'`) the bottom and right of `x` to `h` × `w`. Where the pad is not
 * smaller than the size (which PyTorch rejects) it reflects again, each time by at most size − 1, so any small input
 * works; a 1-pixel side, which has nothing to reflect, repeats its pixel. The ONNX export does the same
 * (`convert-emt.ts`).
 */
function reflectPadTo(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  let y = x;
  for (;;) {
    const [, ch, cw] = y.shape;
    const [dh, dw] = [Math.min(h - ch, ch - 1), Math.min(w - cw, cw - 1)];
    if (dh <= 0 && dw <= 0) break;
    y = tf.mirrorPad(y, [[0, 0], [0, Math.max(dh, 0)], [0, Math.max(dw, 0)], [0, 0]], 'reflect');
  }
  const [n, ch, cw, c] = y.shape;
  if (ch < h) y = tf.concat([y, tf.tile(tf.slice(y, [0, ch - 1, 0, 0], [n, 1, cw, c]), [1, h - ch, 1, 1])], 1);
  if (cw < w) y = tf.concat([y, tf.tile(tf.slice(y, [0, 0, cw - 1, 0], [n, h, 1, c]), [1, 1, w - cw, 1])], 2);
  return y;
}

/** `torch.roll(x, (dy, dx), dims=(H, W))`: element (i, j) moves to (i + dy, j + dx), wrapping around. */
function roll(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const sy = ((dy % h) + h) % h;
  const sx = ((dx % w) + w) % w;
  let y = x;
  if (sy) y = tf.concat([tf.slice(y, [0, h - sy, 0, 0], [-1, sy, -1, -1]), tf.slice(y, [0, 0, 0, 0], [-1, h - sy, -1, -1])], 1);
  if (sx) y = tf.concat([tf.slice(y, [0, 0, w - sx, 0], [-1, -1, sx, -1]), tf.slice(y, [0, 0, 0, 0], [-1, -1, w - sx, -1])], 2);
  return y;
}

/** Attention of one split: `qv` `[N, H, W, 2·heads·d]` (H, W window multiples) → `[N, H, W, heads·d]`. */
function windowAttention(qv: tf.Tensor4D, heads: number, [wh, ww]: [number, number]): tf.Tensor4D {
  const [n, h, w, c2] = qv.shape;
  const d = c2 / 2 / heads;
  const nh = h / wh;
  const nw = w / ww;
  const t = wh * ww;
  // [N, nh, wh, nw, ww, C] -> [N·nh·nw, t, 2, heads, d] -> [2, heads, N·nh·nw, t, d]
  const windows = tf.transpose(tf.reshape(qv, [n, nh, wh, nw, ww, c2]), [0, 1, 3, 2, 4, 5]);
  const tokens = tf.transpose(tf.reshape(windows, [n * nh * nw, t, 2, heads, d]), [2, 3, 0, 1, 4]);
  const [q, v] = tf.unstack(tf.reshape(tokens, [2, heads * n * nh * nw, t, d])) as tf.Tensor3D[];
  const attn = tf.softmax(tf.matMul(q, q, false, true));
  const out = tf.matMul(attn, v); // [heads·N·nh·nw, t, d]
  // [heads, N·nh, nw, wh, ww, d] -> [N·nh, wh, nw, ww, heads, d] -> [N, H, W, heads·d]
  const back = tf.transpose(tf.reshape(out, [heads, n * nh, nw, wh, ww, d]), [1, 3, 2, 4, 0, 5]);
  return tf.reshape(back, [n, h, w, heads * d]);
}

/**
 * Keras layer: EMT's striped-window self-attention on a `qv` tensor `[N, H, W, 2C]` → `[N, H, W, C]` (no weights;
 * see the file comment). Works on any H and W.
 *
 * @example
 * ```ts
 * const y = new StripedWindowAttention({ heads: 3, windows: [[32, 8], [8, 32]] }).apply(qv) as tfl.SymbolicTensor;
 * ```
 */
export class StripedWindowAttention extends tfl.layers.Layer {
  static className = 'StripedWindowAttention';
  readonly heads: number;
  readonly windows: [number, number][];
  readonly shifts: [number, number][];

  constructor(args: StripedWindowAttentionArgs) {
    super({ name: args.name });
    const pairOk = (p: unknown) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0);
    if (!Number.isInteger(args.heads) || args.heads < 1) throw new Error(`StripedWindowAttention heads must be a positive integer, got ${args.heads}`);
    if (!Array.isArray(args.windows) || args.windows.length === 0 || !args.windows.every((p) => pairOk(p) && p[0] > 0 && p[1] > 0)) {
      throw new Error(`StripedWindowAttention windows must be [rows, cols] pairs, got ${JSON.stringify(args.windows)}`);
    }
    const shifts = args.shifts ?? args.windows.map((): [number, number] => [0, 0]);
    if (shifts.length !== args.windows.length || !shifts.every(pairOk)) throw new Error(`StripedWindowAttention needs one [rows, cols] shift per window, got ${JSON.stringify(args.shifts)}`);
    this.heads = args.heads;
    this.windows = args.windows.map(([a, b]) => [a, b]);
    this.shifts = shifts.map(([a, b]) => [a, b]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = s[3];
    if (c != null && c % (2 * this.heads * this.windows.length) !== 0) {
      throw new Error(`StripedWindowAttention needs channels divisible by 2·heads·windows = ${2 * this.heads * this.windows.length}, got ${c}`);
    }
    return [s[0], s[1], s[2], c == null ? null : c / 2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const qv = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [, h, w] = qv.shape;
      const splits = tf.split(qv, this.windows.length, 3) as tf.Tensor4D[];
      const outs = splits.map((x, i) => {
        const [wh, ww] = this.windows[i];
        const [sy, sx] = this.shifts[i];
        let y = reflectPadTo(x, Math.ceil(h / wh) * wh, Math.ceil(w / ww) * ww);
        if (sy || sx) y = roll(y, sy, sx);
        y = windowAttention(y, this.heads, [wh, ww]);
        if (sy || sx) y = roll(y, -sy, -sx);
        return y.shape[1] === h && y.shape[2] === w ? y : tf.slice(y, [0, 0, 0, 0], [-1, h, w, -1]);
      });
      return outs.length === 1 ? outs[0] : tf.concat(outs, 3);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, windows: this.windows, shifts: this.shifts };
  }
}
tf.serialization.registerClass(StripedWindowAttention);
