/**
 * Wraps a TF.js GraphModel (tfjs-converter) as a Keras layer so that it can sit inside a functional model,
 * e.g. as a distillation teacher. It has no trainable weights and cannot be serialised (save the
 * GraphModel itself instead; `saveModel` and `exportOnnx` refuse it).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';
import { ModelError } from '../../errors';

/**
 * The part of a tfjs-converter GraphModel used here.
 *
 * @example
 * ```ts
 * const graph: GraphModelLike = await tfconv.loadGraphModel('https://example.com/sr/model.json');
 * const teacher = teacherFromModel(graph, { scale: 4 });
 * ```
 */
export interface GraphModelLike {
  predict(x: tf.Tensor, config?: object): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose?(): void;
}

/**
 * Constructor arguments of {@link GraphModelLayer}.
 *
 * @example
 * ```ts
 * const layer = new GraphModelLayer({ model: graph, scale: 4 } satisfies GraphModelLayerArgs);
 * ```
 */
export interface GraphModelLayerArgs {
  model: GraphModelLike;
  /** Output size / input size. */
  scale: number;
  name?: string;
}

/**
 * Keras layer running a GraphModel: `[N, H, W, C]` -> `[N, H*scale, W*scale, C]` (first output).
 *
 * @example
 * ```ts
 * const y = new GraphModelLayer({ model: await tfconv.loadGraphModel(url), scale: 4 }).apply(input);
 * ```
 */
export class GraphModelLayer extends tfl.layers.Layer {
  static className = 'GraphModelLayer';
  readonly graphModel: GraphModelLike;
  readonly scale: number;

  constructor(args: GraphModelLayerArgs) {
    super({ name: args.name, trainable: false });
    this.graphModel = args.model;
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    const up = (v: number | null) => (v == null ? null : v * this.scale);
    return [s[0], up(s[1]), up(s[2]), s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const out = this.graphModel.predict(x);
      if (out instanceof tf.Tensor) return out;
      const first = Array.isArray(out) ? out[0] : Object.values(out)[0];
      if (!first) throw new ModelError('the wrapped GraphModel returned no output');
      return first;
    });
  }

  /** The config describes the layer (for `describeModel`) but cannot recreate it: saving is refused. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
