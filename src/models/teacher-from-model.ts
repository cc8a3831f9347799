/**
 * `teacherFromModel`: adopts any pretrained TF.js super-resolution model as a distillation teacher.
 * The result is an ordinary functional LayersModel with the sharpen-kd contract ([0, 1] RGB in and out,
 * NHWC, any H and W) and teacher metadata. For a LayersModel, its layers are re-wired into a flat graph
 * between two {@link Rescale} layers (so `tapModel`, `describeModel`, `saveModel` and `exportOnnx` see
 * every inner layer, and the weights are shared with the source model); a GraphModel is wrapped in one
 * non-trainable layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import { rgbInput, type Sym } from './blocks';
import { describeModel } from './describe';
import { modelGraph } from './graph';
import { GraphModelLayer, type GraphModelLike } from './layers/graph-model-layer';
import { Rescale } from './layers/rescale';
import { setModelInfo } from './metadata';
import './layers/index';

/**
 * Options of {@link teacherFromModel}.
 *
 * @example
 * ```ts
 * const opts: TeacherFromModelOptions = { scale: 4, inputRange: [0, 255] };
 * ```
 */
export interface TeacherFromModelOptions {
  /** Output size / input size of the model (checked with a probe run unless `verify: false`). */
  scale: number;
  /** Value range the model expects, e.g. `[0, 255]` for UpscalerJS ESRGAN models (default `[0, 1]`). */
  inputRange?: [number, number];
  /** Value range the model produces (default: same as `inputRange`). */
  outputRange?: [number, number];
  /** Feature-tap layer names (default: the last merge layer at input resolution, e.g. `FDF` in RDN). */
  taps?: string[];
  /** Run an 16×16 probe to check the scale (default true). */
  verify?: boolean;
  /** Model name (default `${source name}_teacher`). */
  name?: string;
}

function isLayersModel(m: unknown): m is tfl.LayersModel {
  return typeof m === 'object' && m !== null && Array.isArray((m as tfl.LayersModel).layers) && 'inputs' in m;
}

function checkRange(name: string, r: unknown): [number, number] {
  if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || !(r[1] > r[0])) {
    throw new ConfigError(`${name} must be [min, max] with max > min, got ${JSON.stringify(r)}`);
  }
  return [r[0], r[1]];
}

/** Re-applies the layers of `inner` (recursively flattening nested models) to `x`; returns its outputs. */
function rewire(inner: tfl.LayersModel, x: Sym): Sym[] {
  const map = new Map<number, Sym>([[inner.inputs[0].id, x]]);
  for (const node of modelGraph(inner)) {
    if (node.inputs.length === 0) continue;
    const ins = node.inputs.map((t) => map.get(t.id)!);
    let outs: Sym[];
    if (isLayersModel(node.layer)) {
      if (ins.length !== 1) throw new ConfigError(`nested model "${node.layer.name}" with several inputs is not supported`);
      outs = rewire(node.layer, ins[0]);
    } else {
      const o = node.layer.apply(ins.length === 1 ? ins[0] : ins);
      outs = (Array.isArray(o) ? o : [o]) as Sym[];
    }
    node.outputs.forEach((t, i) => map.set(t.id, outs[i]));
  }
  return inner.outputs.map((t) => map.get(t.id)!);
}

/**
 * Wraps a pretrained SR model (`tf.LayersModel`, or a tfjs-converter `GraphModel`) as a teacher:
 * `[N, H, W, 3]` in [0, 1] -> `[N, H*scale, W*scale, 3]` in [0, 1]. Value ranges are converted inside the
 * model. The returned model shares weights with `model`: dispose only one of them.
 *
 * @throws ConfigError for bad options, a model that is not RGB-in/RGB-out, or a scale that the probe run contradicts.
 * @example
 * ```ts
 * const esrgan = await loadModel('node_modules/@upscalerjs/esrgan-slim/models/x4/model.json');
 * const teacher = teacherFromModel(esrgan, { scale: 4, inputRange: [0, 255] });
 * await distill({ teacher, student, data, schedule: { steps: 8000 } });
 * ```
 */
export function teacherFromModel(model: tfl.LayersModel | GraphModelLike, opts: TeacherFromModelOptions): tfl.LayersModel {
  const scale = opts?.scale;
  if (!Number.isInteger(scale) || scale < 1 || scale > 8) throw new ConfigError(`scale must be an integer from 1 to 8, got ${String(scale)}`);
  const inputRange = checkRange('inputRange', opts.inputRange ?? [0, 1]);
  const outputRange = checkRange('outputRange', opts.outputRange ?? inputRange);
  const layers = isLayersModel(model);
  if (layers) {
    if (model.inputs.length !== 1 || model.inputs[0].shape.length !== 4) throw new ConfigError(`the model must take one NHWC image input, got ${model.inputs.length} inputs`);
    const c = model.inputs[0].shape[3];
    if (c != null && c !== 3) throw new ConfigError(`the model takes ${c} channels; a teacher must take RGB (3 channels)`);
  } else if (typeof (model as GraphModelLike)?.predict !== 'function') {
    throw new ConfigError('teacherFromModel needs a tf.LayersModel or a GraphModel (an object with predict())');
  }
  const srcName = (layers ? model.name : 'graph_model').replace(/[^A-Za-z0-9_]/g, '_');
  const name = opts.name ?? `${srcName}_teacher`;

  const input = rgbInput('teacher_input');
  const [ilo, ihi] = inputRange;
  const [olo, ohi] = outputRange;
  const scaled = new Rescale({ scale: ihi - ilo, offset: ilo, name: 'to_model_range' }).apply(input) as Sym;
  const inner = layers ? rewire(model, scaled)[0] : (new GraphModelLayer({ model, scale, name: 'graph_model' }).apply(scaled) as Sym);
  const out = new Rescale({ scale: 1 / (ohi - olo), offset: -olo / (ohi - olo), name: 'from_model_range' }).apply(inner) as Sym;
  const teacher = tfl.model({ inputs: input, outputs: out, name });

  const probe = opts.verify === false ? undefined : describeModel(teacher, { inputSize: [16, 16] });
  if (probe) {
    // A layers model's shapes are exact; a GraphModel has to run once to tell.
    const shape = layers ? probe.outputShape : tf.tidy(() => (teacher.predict(tf.zeros([1, 16, 16, 3])) as tf.Tensor).shape);
    if (shape[1] !== 16 * scale || shape[2] !== 16 * scale || shape[3] !== 3) {
      throw new ConfigError(`the model maps 16x16x3 to ${shape.slice(1).join('x')}, not ${16 * scale}x${16 * scale}x3: pass the right scale (or verify: false)`);
    }
  }
  const taps = opts.taps ?? (probe && layers ? defaultTaps(probe.layers) : []);
  setModelInfo(teacher, { arch: 'external', scale, role: 'teacher', taps, options: { inputRange, outputRange, source: srcName } });
  return teacher;
}

/** The last merge (Add/Concatenate) layer at input resolution, else the last layer there with >= 8 channels. */
function defaultTaps(layers: { name: string; className: string; outputShape: number[] }[]): string[] {
  const lr = layers.filter((l) => l.outputShape.length === 4 && l.outputShape[1] === 16 && l.outputShape[2] === 16 && !l.name.endsWith('_model_range'));
  const merge = lr.filter((l) => l.className === 'Add' || l.className === 'Concatenate').pop();
  const wide = lr.filter((l) => l.outputShape[3] >= 8).pop();
  const pick = merge ?? wide;
  return pick ? [pick.name] : [];
}
