/**
 * Global residual learning: the network predicts a correction that is added to the input upsampled by
 * a fixed interpolation (nearest as in SRVGGNetCompact, or bilinear). At scale 1 it adds the input itself,
 * which makes a sharpening net learn only the detail to add.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';

/**
 * Interpolation of the upsampled input. `bilinear` uses half-pixel centres (ONNX `half_pixel`).
 *
 * @example
 * ```ts
 * const student = buildStudent({ arch: 'compact', scale: 4, residualInterpolation: 'bilinear' satisfies ResidualInterpolation });
 * ```
 */
export type ResidualInterpolation = 'nearest' | 'bilinear';

/**
 * Constructor arguments of {@link AddUpsampledInput}.
 *
 * @example
 * ```ts
 * const add = new AddUpsampledInput({ scale: 4, interpolation: 'nearest' } satisfies AddUpsampledInputArgs);
 * ```
 */
export interface AddUpsampledInputArgs {
  /** Integer upscaling factor, 1 to 8. */
  scale: number;
  /** How the input is upsampled (default `'nearest'`). */
  interpolation?: ResidualInterpolation;
  /** Layer name. */
  name?: string;
}

/**
 * Keras layer with two inputs `[residual, input]`: returns `residual + upsample(input, scale)`.
 * `residual` is `[N, H*s, W*s, C]` or `[N, H*s, W*s, 1]` (one correction added to every channel), `input` is `[N, H, W, C]`.
 *
 * @example
 * ```ts
 * const y = new AddUpsampledInput({ scale: 4, interpolation: 'nearest' }).apply([shuffled, lrInput]);
 * ```
 */
export class AddUpsampledInput extends tfl.layers.Layer {
  static className = 'AddUpsampledInput';
  readonly scale: number;
  readonly interpolation: ResidualInterpolation;

  constructor(args: AddUpsampledInputArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.scale) || args.scale < 1) throw new Error(`AddUpsampledInput scale must be a positive integer, got ${args.scale}`);
    const interp = args.interpolation ?? 'nearest';
    if (interp !== 'nearest' && interp !== 'bilinear') throw new Error(`AddUpsampledInput interpolation must be 'nearest' or 'bilinear', got ${String(interp)}`);
    this.scale = args.scale;
    this.interpolation = interp;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = inputShape as Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 2) throw new Error('AddUpsampledInput expects two inputs: [residual, input]');
    // A 1-channel residual broadcasts over the input's channels.
    return [...shapes[0].slice(0, 3), shapes[1][3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [res, x] = inputs as tf.Tensor4D[];
      return tf.add(res, upsampleInput(x, this.scale, this.interpolation));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, interpolation: this.interpolation };
  }
}
tf.serialization.registerClass(AddUpsampledInput);

/**
 * Upsamples an NHWC batch by an integer factor the way {@link AddUpsampledInput} does.
 *
 * @example
 * ```ts
 * const up = upsampleInput(lr, 4, 'bilinear'); // [N, 4H, 4W, 3]
 * ```
 */
export function upsampleInput(x: tf.Tensor4D, scale: number, interpolation: ResidualInterpolation): tf.Tensor4D {
  if (scale === 1) return x.clone();
  const size: [number, number] = [x.shape[1] * scale, x.shape[2] * scale];
  return interpolation === 'nearest'
    ? tf.image.resizeNearestNeighbor(x, size, false, false)
    : tf.image.resizeBilinear(x, size, false, true);
}
