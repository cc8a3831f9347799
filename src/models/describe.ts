/** `describeModel`: parameters, multiply-accumulates, FLOPs and receptive field of a model for an input size. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import { modelGraph } from './graph';

type Shape = (number | null)[];

/**
 * One layer call in a {@link ModelDescription}.
 *
 * @example
 * ```ts
 * const heaviest: LayerDescription = describeModel(model).layers.reduce((a, b) => (b.macs > a.macs ? b : a));
 * ```
 */
export interface LayerDescription {
  name: string;
  className: string;
  /** Output shape for batch 1 (`[1, h, w, c]`). */
  outputShape: number[];
  params: number;
  macs: number;
  flops: number;
}

/**
 * What {@link describeModel} returns. MACs count the multiply-accumulates of convolutions and dense layers;
 * FLOPs are 2 × MACs plus one per output element for each bias add, activation, addition, normalisation or
 * other element-wise op (two for PReLU and batch norm, seven per element for bilinear interpolation).
 *
 * @example
 * ```ts
 * const d: ModelDescription = describeModel(model, { inputSize: [180, 320] });
 * console.log(`${d.params} params, ${(d.macs / 1e9).toFixed(2)} GMACs, RF ${d.receptiveField}px`);
 * ```
 */
export interface ModelDescription {
  name: string;
  /** All weights (trainable and not). */
  params: number;
  trainableParams: number;
  /** Input shape used: `[1, h, w, c]`. */
  inputShape: number[];
  outputShape: number[];
  macs: number;
  flops: number;
  /** Side of the square window of input pixels that one output pixel depends on. */
  receptiveField: number;
  layers: LayerDescription[];
}

/**
 * Options of {@link describeModel}.
 *
 * @example
 * ```ts
 * const opts: DescribeOptions = { inputSize: [270, 480] }; // 1920x1080 output at x4
 * ```
 */
export interface DescribeOptions {
  /** Input `[height, width]` (default `[180, 320]`, i.e. 1280×720 output at ×4). */
  inputSize?: [number, number];
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Counts parameters, MACs and FLOPs of `model` for one input image of `inputSize`, and its receptive field.
 *
 * @throws ConfigError for an invalid input size.
 * @example
 * ```ts
 * const d = describeModel(buildStudent({ arch: 'espcn', scale: 4 }), { inputSize: [180, 320] });
 * d.params; // 37200
 * ```
 */
export function describeModel(model: tfl.LayersModel, opts: DescribeOptions = {}): ModelDescription {
  const [h, w] = opts.inputSize ?? [180, 320];
  if (![h, w].every((v) => Number.isInteger(v) && v > 0)) throw new ConfigError(`inputSize must be two positive integers [h, w], got ${JSON.stringify(opts.inputSize)}`);
  const shapes = new Map<number, number[]>();
  const rf = new Map<number, { rf: number; jump: number }>();
  const layers: LayerDescription[] = [];
  let macs = 0;
  let flops = 0;

  for (const node of modelGraph(model)) {
    const { layer } = node;
    const cls = layer.getClassName();
    let outShapes: number[][];
    let r: { rf: number; jump: number };
    if (node.inputs.length === 0) {
      const s = layer.outputShape as Shape;
      outShapes = [[1, h, w, (s[s.length - 1] as number) ?? 3]];
      r = { rf: 1, jump: 1 };
    } else {
      const ins = node.inputs.map((t) => shapes.get(t.id)!);
      const out = layer.computeOutputShape(ins.length === 1 ? ins[0] : ins) as Shape | Shape[];
      outShapes = (Array.isArray(out[0]) ? (out as Shape[]) : [out as Shape]).map((s) => s.map((v) => v ?? 1));
      const cost = layerCost(layer, cls, ins, outShapes[0]);
      const p = layer.countParams();
      macs += cost.macs;
      flops += cost.flops;
      layers.push({ name: layer.name, className: cls, outputShape: outShapes[0], params: p, macs: cost.macs, flops: cost.flops });
      r = receptive(layer, cls, node.inputs.map((t) => rf.get(t.id)!));
    }
    node.outputs.forEach((t, i) => {
      shapes.set(t.id, outShapes[i] ?? outShapes[0]);
      rf.set(t.id, r);
    });
  }
  const trainableParams = model.trainableWeights.reduce((a, v) => a + count(v.shape as number[]), 0);
  return {
    name: model.name,
    params: model.countParams(),
    trainableParams,
    inputShape: [1, h, w, (model.inputs[0].shape[3] as number) ?? 3],
    outputShape: shapes.get(model.outputs[0].id)!,
    macs,
    flops,
    receptiveField: Math.ceil(rf.get(model.outputs[0].id)!.rf),
    layers,
  };
}

function cfg(layer: tfl.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [v as number, v as number];
}

function layerCost(layer: tfl.layers.Layer, cls: string, ins: number[][], out: number[]): { macs: number; flops: number } {
  const c = cfg(layer);
  const outN = count(out);
  const act = c.activation && c.activation !== 'linear' ? outN : 0;
  const bias = c.useBias ? outN : 0;
  switch (cls) {
    case 'Conv2D':
    case 'RepConv2D': {
      const [kh, kw] = pair(c.kernelSize);
      const m = outN * kh * kw * ins[0][3];
      return { macs: m, flops: 2 * m + bias + act };
    }
    case 'DepthwiseConv2D': {
      const [kh, kw] = pair(c.kernelSize);
      const m = outN * kh * kw;
      return { macs: m, flops: 2 * m + bias + act };
    }
    case 'Conv2DTranspose': {
      const [kh, kw] = pair(c.kernelSize);
      const m = count(ins[0]) * kh * kw * out[3];
      return { macs: m, flops: 2 * m + bias + act };
    }
    case 'Dense': {
      const m = outN * ins[0][ins[0].length - 1];
      return { macs: m, flops: 2 * m + bias + act };
    }
    case 'PReLU':
    case 'BatchNormalization':
      return { macs: 0, flops: 2 * outN };
    case 'Add':
    case 'Multiply':
    case 'Average':
    case 'Maximum':
    case 'Minimum':
      return { macs: 0, flops: (ins.length - 1) * outN };
    case 'Activation':
      return { macs: 0, flops: c.activation === 'linear' ? 0 : outN };
    case 'ReLU':
    case 'LeakyReLU':
    case 'ELU':
    case 'Rescale':
      return { macs: 0, flops: outN };
    case 'AddUpsampledInput':
      return { macs: 0, flops: outN * (c.interpolation === 'bilinear' && (c.scale as number) > 1 ? 8 : 1) };
    case 'UpSampling2D':
      return { macs: 0, flops: c.interpolation === 'bilinear' ? 7 * outN : 0 };
    default:
      return { macs: 0, flops: 0 };
  }
}

function receptive(layer: tfl.layers.Layer, cls: string, ins: { rf: number; jump: number }[]): { rf: number; jump: number } {
  const c = cfg(layer);
  const first = ins[0];
  const merged = { rf: Math.max(...ins.map((i) => i.rf)), jump: Math.min(...ins.map((i) => i.jump)) };
  switch (cls) {
    case 'Conv2D':
    case 'RepConv2D':
    case 'DepthwiseConv2D': {
      const [k] = pair(c.kernelSize);
      const [d] = pair(c.dilationRate ?? 1);
      const [s] = pair(c.strides ?? 1);
      return { rf: first.rf + ((k - 1) * d) * first.jump, jump: first.jump * s };
    }
    case 'Conv2DTranspose': {
      const [k] = pair(c.kernelSize);
      const [s] = pair(c.strides ?? 1);
      return { rf: first.rf + (k - 1) * (first.jump / s), jump: first.jump / s };
    }
    case 'PixelShuffle':
      return { rf: first.rf, jump: first.jump / (c.scale as number) };
    case 'PixelUnshuffle': {
      // Each output pixel gathers a u×u block, like a u×u conv with stride u.
      const u = c.factor as number;
      return { rf: first.rf + (u - 1) * first.jump, jump: first.jump * u };
    }
    case 'UpSampling2D': {
      const [s] = pair(c.size);
      return { rf: first.rf + (c.interpolation === 'bilinear' ? first.jump : 0), jump: first.jump / s };
    }
    case 'AddUpsampledInput': {
      const up = ins[1].rf + (c.interpolation === 'bilinear' && (c.scale as number) > 1 ? ins[1].jump : 0);
      return { rf: Math.max(ins[0].rf, up), jump: ins[0].jump };
    }
    case 'CropToScaledInput':
      return first;
    default:
      return ins.length > 1 ? merged : first;
  }
}
