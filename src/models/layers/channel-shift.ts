/**
 * Parameter-free spatial mixing by channel groups, the two shift operators of EMT (Zheng et al. 2023):
 * the channels are split into five groups; four groups are moved one pixel right, left, down and up, the fifth
 * stays. Implemented as a depthwise 3×3 convolution with a fixed one-hot kernel (exact: every output is one input
 * value), after padding by one pixel.
 *
 * - `'pixel-mixer'` (EMT's token mixer): groups interleave (channel c is in group c mod 5), the padding wraps around
 *   (circular), and the layer returns `shift(x) − x`, the input of the token mixer's BatchNorm.
 * - `'shift-conv'` (the shift in front of EMT's 1×1 MLP convolutions): groups are contiguous blocks of C/5
 *   channels, the padding is zeros, and the layer returns `shift(x)`.
 *
 * Output channel c at pixel (h, w) reads input pixel (h + dy, w + dx) of the same channel, with (dy, dx) by group:
 * group 0 (0, +1), group 1 (0, −1), group 2 (+1, 0), group 3 (−1, 0), group 4 (0, 0).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Which of EMT's two shift operators a {@link ChannelShift} layer is.
 *
 * @example
 * ```ts
 * const mode: ChannelShiftMode = 'pixel-mixer';
 * ```
 */
export type ChannelShiftMode = 'pixel-mixer' | 'shift-conv';

/**
 * Constructor arguments of {@link ChannelShift}.
 *
 * @example
 * ```ts
 * const mixer = new ChannelShift({ mode: 'pixel-mixer' } satisfies ChannelShiftArgs);
 * ```
 */
export interface ChannelShiftArgs {
  mode: ChannelShiftMode;
  name?: string;
}

/** Offsets (dy, dx) of the five channel groups, in group order. */
export const SHIFT_OFFSETS: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, -1],
  [1, 0],
  [-1, 0],
  [0, 0],
];

/** The group of channel `c` of `channels` in a mode: interleaved (c mod 5) or contiguous blocks of C/5. */
export function shiftGroup(mode: ChannelShiftMode, c: number, channels: number): number {
  if (mode === 'pixel-mixer') return c % 5;
  const per = Math.floor(channels / 5);
  return Math.min(4, Math.floor(c / per));
}

/**
 * The depthwise 3×3 kernel `[3, 3, C, 1]` of a mode (row-major taps, tap (1 + dy, 1 + dx) is one). For
 * `'pixel-mixer'` the centre tap also carries −1, so that the conv computes `shift(x) − x` in one pass.
 */
export function channelShiftKernel(mode: ChannelShiftMode, channels: number): Float32Array {
  const k = new Float32Array(9 * channels);
  for (let c = 0; c < channels; c++) {
    const [dy, dx] = SHIFT_OFFSETS[shiftGroup(mode, c, channels)];
    k[((1 + dy) * 3 + (1 + dx)) * channels + c] += 1;
    if (mode === 'pixel-mixer') k[4 * channels + c] -= 1;
  }
  return k;
}

/** Pads H and W by one pixel on each side, wrapping around (PyTorch's `F.pad(..., mode='circular')`). */
function circularPad1(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const rows = tf.concat([tf.slice(x, [0, h - 1, 0, 0], [-1, 1, -1, -1]), x, tf.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1])], 1);
  return tf.concat([tf.slice(rows, [0, 0, w - 1, 0], [-1, -1, 1, -1]), rows, tf.slice(rows, [0, 0, 0, 0], [-1, -1, 1, -1])], 2);
}

/**
 * Keras layer: EMT's parameter-free channel-group shift (see the file comment). `[N, H, W, C]` in and out; C must be
 * a multiple of 5.
 *
 * @example
 * ```ts
 * const mixed = new ChannelShift({ mode: 'pixel-mixer', name: 'mixer' }).apply(x) as tfl.SymbolicTensor;
 * ```
 */
export class ChannelShift extends tfl.layers.Layer {
  static className = 'ChannelShift';
  readonly mode: ChannelShiftMode;

  constructor(args: ChannelShiftArgs) {
    super({ name: args.name });
    if (args.mode !== 'pixel-mixer' && args.mode !== 'shift-conv') throw new Error(`ChannelShift mode must be pixel-mixer or shift-conv, got ${String(args.mode)}`);
    this.mode = args.mode;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (s[3] != null && s[3] % 5 !== 0) throw new Error(`ChannelShift needs channels divisible by 5, got ${s[3]}`);
    return s;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const c = x.shape[3];
      const kernel = tf.tensor4d(channelShiftKernel(this.mode, c), [3, 3, c, 1]);
      const padded = this.mode === 'pixel-mixer' ? circularPad1(x) : tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      return tf.depthwiseConv2d(padded, kernel, 1, 'valid');
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}
tf.serialization.registerClass(ChannelShift);
