/** Feature taps for feature distillation: a multi-output view of a model that shares its weights. */
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import { layerOutputInModel } from './graph';
import { findModelInfo, setModelInfo } from './metadata';

/**
 * The default feature-tap layer names of a model built by sharpen-kd (from its metadata), or, for other
 * models, the outputs of every layer with 4-D output except the input and the final output.
 *
 * @example
 * ```ts
 * featureTaps(buildStudent({ arch: 'espcn', scale: 4 })); // ['feat1', 'feat2']
 * ```
 */
export function featureTaps(model: tfl.LayersModel): string[] {
  const info = findModelInfo(model);
  if (info && info.taps.length > 0) return [...info.taps];
  const outs = new Set(model.outputs.map((t) => t.sourceLayer.name));
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer' && !outs.has(l.name))
    .filter((l) => {
      try {
        const s = l.outputShape;
        return Array.isArray(s) && s.length === 4 && !Array.isArray(s[0]);
      } catch {
        return false; // layer used at several places: no single output shape
      }
    })
    .map((l) => l.name);
}

/**
 * A multi-output model `[output, ...features]` over the same layers (weights are shared, so training it
 * trains `model`). `names` default to {@link featureTaps}.
 *
 * @throws ConfigError when a name is not a layer of the model.
 * @example
 * ```ts
 * const tapped = tapModel(student);               // outputs: [sr, feat1, feat2]
 * const [sr, f1, f2] = tapped.predict(lr) as tf.Tensor4D[];
 * ```
 */
export function tapModel(model: tfl.LayersModel, names?: string[]): tfl.LayersModel {
  const taps = names ?? featureTaps(model);
  const outputs = taps.map((n) => {
    const out = layerOutputInModel(model, n);
    if (!out) {
      const names = model.layers.map((l) => l.name).join(', ');
      throw new ConfigError(`no layer with a single output named "${n}" in model "${model.name}"; available: ${names}`);
    }
    return out;
  });
  const tapped = tfl.model({ inputs: model.inputs, outputs: [model.outputs[0], ...outputs], name: `${model.name}_taps` });
  const info = findModelInfo(model);
  if (info) setModelInfo(tapped, { ...info, taps });
  return tapped;
}
