/**
 * Converts one Keras layer call to ONNX nodes. Inside the graph every image tensor is NCHW (ONNX's Conv
 * layout); the exporter transposes at the model boundary. Keras NHWC axes map to NCHW as
 * 0->0, 1->2, 2->3, 3->1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../../errors';
import { RepConv2D } from '../layers/rep-conv';
import { convertChannelShift, convertStripedWindowAttention } from './convert-emt';
import { attr, type OnnxAttr, type OnnxGraph } from './onnx-model';

type Cfg = Record<string, unknown>;

const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [v as number, v as number];
}

function data(t: tf.Tensor, perm?: number[]): Float32Array {
  return tf.tidy(() => (perm ? tf.transpose(t, perm) : t).dataSync() as Float32Array).slice();
}

/** @internal Appends the activation `name` (Keras string) after tensor `x`. */
export function activation(g: OnnxGraph, x: string, name: string | undefined, base: string): string {
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return g.add('Relu', [x], base);
    case 'tanh':
      return g.add('Tanh', [x], base);
    case 'sigmoid':
      return g.add('Sigmoid', [x], base);
    case 'elu':
      return g.add('Elu', [x], base, { alpha: attr.float(1) });
    case 'selu':
      return g.add('Selu', [x], base);
    case 'softplus':
      return g.add('Softplus', [x], base);
    case 'softsign':
      return g.add('Softsign', [x], base);
    case 'hardSigmoid':
      return g.add('HardSigmoid', [x], base, { alpha: attr.float(0.2), beta: attr.float(0.5) });
    case 'relu6':
      return g.add('Clip', [x, g.floatConst(`${base}/min`, [], [0]), g.floatConst(`${base}/max`, [], [6])], base);
    case 'swish':
      return g.add('Mul', [x, g.add('Sigmoid', [x], `${base}_sig`)], base);
    default:
      throw new ModelError(`ONNX export: activation "${name}" is not supported (use relu, tanh, sigmoid, elu, selu, softplus, relu6, swish)`);
  }
}

function conv(g: OnnxGraph, layer: tfl.layers.Layer, c: Cfg, x: string, depthwise: boolean): string {
  // A RepConv2D exports as the plain conv it equals.
  const merged = layer instanceof RepConv2D ? layer.mergedWeights() : undefined;
  const [w, b] = merged ?? layer.getWeights();
  try {
    return convWith(g, layer, c, x, depthwise, w, b);
  } finally {
    if (merged) tf.dispose(merged);
  }
}

function convWith(g: OnnxGraph, layer: tfl.layers.Layer, c: Cfg, x: string, depthwise: boolean, w: tf.Tensor, b: tf.Tensor | undefined): string {
  const [kh, kw] = pair(c.kernelSize);
  const [sh, sw] = pair(c.strides ?? 1);
  const [dh, dw] = pair(c.dilationRate ?? 1);
  if ((c.dataFormat ?? 'channelsLast') !== 'channelsLast') throw new ModelError(`ONNX export: ${layer.name} uses channelsFirst, which is not supported`);
  let wName: string;
  let group = 1;
  if (depthwise) {
    // [kh, kw, cin, mult] -> [cin*mult, 1, kh, kw]
    const [, , cin, mult] = w.shape;
    wName = g.floatConst(`${layer.name}/W`, [cin * mult, 1, kh, kw], data(w, [2, 3, 0, 1]));
    group = cin;
  } else {
    // [kh, kw, cin, cout] -> [cout, cin, kh, kw]
    const [, , cin, cout] = w.shape;
    wName = g.floatConst(`${layer.name}/W`, [cout, cin, kh, kw], data(w, [3, 2, 0, 1]));
  }
  const inputs = [x, wName];
  if (c.useBias && b) inputs.push(g.floatConst(`${layer.name}/B`, [b.shape[0]], data(b)));
  const attrs: Parameters<OnnxGraph['add']>[3] = {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([sh, sw]),
    dilations: attr.ints([dh, dw]),
    group: attr.int(group),
  };
  const eh = (kh - 1) * dh;
  const ew = (kw - 1) * dw;
  if (c.padding === 'same') {
    // TF 'same': total padding (out-1)*s + k_eff - in, the extra pixel at the end = ONNX SAME_UPPER.
    if (sh === 1 && sw === 1 && eh % 2 === 0 && ew % 2 === 0) attrs.pads = attr.ints([eh / 2, ew / 2, eh / 2, ew / 2]);
    else attrs.auto_pad = attr.string('SAME_UPPER');
  } else if (c.padding === 'valid') {
    attrs.pads = attr.ints([0, 0, 0, 0]);
  } else {
    throw new ModelError(`ONNX export: padding "${String(c.padding)}" of ${layer.name} is not supported`);
  }
  const y = g.add('Conv', inputs, layer.name, attrs);
  return activation(g, y, c.activation as string | undefined, `${layer.name}_act`);
}

/** Channels of a layer's (first) input, which must be known. */
function channelsOf(layer: tfl.layers.Layer): number {
  const s = (layer.input as tfl.SymbolicTensor).shape;
  const c = s[s.length - 1];
  if (c == null) throw new ModelError(`ONNX export: layer "${layer.name}" needs a known channel count`);
  return c;
}

/**
 * @internal Emits the ONNX nodes of one Keras layer call. `ins` are the NCHW input names. Returns the
 * output name.
 */
export function convertLayer(g: OnnxGraph, layer: tfl.layers.Layer, ins: string[]): string {
  const cls = layer.getClassName();
  const c = layer.getConfig() as Cfg;
  const n = layer.name;
  const x = ins[0];
  switch (cls) {
    case 'Conv2D':
    case 'RepConv2D':
      return conv(g, layer, c, x, false);
    case 'DepthwiseConv2D':
      return conv(g, layer, c, x, true);
    case 'PReLU': {
      const [alpha] = layer.getWeights();
      // One slope for the whole layer is a leaky ReLU, which every runtime has and ONNX Runtime's CPU provider fuses
      // into the conv before it.
      if (alpha.size === 1) return g.add('LeakyRelu', [x], n, { alpha: attr.float(alpha.dataSync()[0]) });
      // Keras alpha is [H|1, W|1, C]; ONNX slope broadcasts against NCHW as [C, H|1, W|1].
      const [ah, aw, ac] = alpha.shape;
      const slope = g.floatConst(`${n}/slope`, [ac, ah, aw], data(alpha, [2, 0, 1]));
      return g.add('PRelu', [x, slope], n);
    }
    case 'Activation':
      return c.activation === 'linear' ? g.add('Identity', [x], n) : activation(g, x, c.activation as string, n);
    case 'ReLU': {
      const max = c.maxValue as number | null | undefined;
      if (max == null) return g.add('Relu', [x], n);
      return g.add('Clip', [x, g.floatConst(`${n}/min`, [], [0]), g.floatConst(`${n}/max`, [], [max])], n);
    }
    case 'LeakyReLU':
      return g.add('LeakyRelu', [x], n, { alpha: attr.float((c.alpha as number) ?? 0.3) });
    case 'ELU':
      return g.add('Elu', [x], n, { alpha: attr.float((c.alpha as number) ?? 1) });
    case 'Add':
    case 'Multiply': {
      const op = cls === 'Add' ? 'Add' : 'Mul';
      let acc = ins[0];
      for (let i = 1; i < ins.length; i++) acc = g.add(op, [acc, ins[i]], i === ins.length - 1 ? n : `${n}_${i}`);
      return acc;
    }
    case 'Maximum':
      return g.add('Max', ins, n);
    case 'Minimum':
      return g.add('Min', ins, n);
    case 'Average':
      return g.add('Mean', ins, n);
    case 'Concatenate': {
      const a = c.axis as number;
      const axis = NHWC_TO_NCHW_AXIS[a < 0 ? a + 4 : a];
      return g.add('Concat', ins, n, { axis: attr.int(axis) });
    }
    case 'BatchNormalization': {
      const a = c.axis as number | number[];
      const ax = Array.isArray(a) ? a[0] : a;
      if (ax !== -1 && ax !== 3) throw new ModelError(`ONNX export: BatchNormalization ${n} must normalise the channel axis`);
      const ws = layer.getWeights();
      let i = 0;
      const gamma = c.scale ? ws[i++] : undefined;
      const beta = c.center ? ws[i++] : undefined;
      const mean = ws[i++];
      const variance = ws[i++];
      const ch = mean.shape[0];
      const ones = new Float32Array(ch).fill(1);
      const zeros = new Float32Array(ch);
      return g.add('BatchNormalization', [
        x,
        g.floatConst(`${n}/scale`, [ch], gamma ? data(gamma) : ones),
        g.floatConst(`${n}/B`, [ch], beta ? data(beta) : zeros),
        g.floatConst(`${n}/mean`, [ch], data(mean)),
        g.floatConst(`${n}/var`, [ch], data(variance)),
      ], n, { epsilon: attr.float(c.epsilon as number) });
    }
    case 'UpSampling2D': {
      const [sh, sw] = pair(c.size);
      const scales = g.floatConst(`${n}/scales`, [4], [1, 1, sh, sw]);
      // tfjs UpSampling2D: resize with alignCorners=false, halfPixelCenters=false (ONNX 'asymmetric').
      const attrs: Record<string, OnnxAttr> = c.interpolation === 'bilinear'
        ? { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('asymmetric') }
        : { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') };
      return g.add('Resize', [x, '', scales], n, attrs);
    }
    case 'ZeroPadding2D': {
      const p = c.padding as [[number, number], [number, number]];
      return g.add('Pad', [x, g.intConst(`${n}/pads`, [0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]])], n, { mode: attr.string('constant') });
    }
    case 'PixelShuffle':
      // TF depthToSpace channel order (i*r + j)*C + c == ONNX DepthToSpace mode DCR.
      return g.add('DepthToSpace', [x], n, { blocksize: attr.int(c.scale as number), mode: attr.string('DCR') });
    case 'PixelUnshuffle':
      // TF spaceToDepth channel order (i*r + j)*C + c, which is ONNX SpaceToDepth's.
      return g.add('SpaceToDepth', [x], n, { blocksize: attr.int(c.factor as number) });
    case 'AddUpsampledInput': {
      const s = c.scale as number;
      if (s === 1) return g.add('Add', [ins[0], ins[1]], n);
      const scales = g.floatConst(`${n}/scales`, [4], [1, 1, s, s]);
      const attrs: Record<string, OnnxAttr> = c.interpolation === 'bilinear'
        ? { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('half_pixel') }
        : { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') };
      const up = g.add('Resize', [ins[1], '', scales], `${n}_up`, attrs);
      return g.add('Add', [ins[0], up], n);
    }
    case 'Rescale': {
      const scale = c.scale as number;
      const offset = (c.offset as number) ?? 0;
      let y = scale === 1 ? x : g.add('Mul', [x, g.floatConst(`${n}/scale`, [], [scale])], offset === 0 ? n : `${n}_mul`);
      if (offset !== 0) y = g.add('Add', [y, g.floatConst(`${n}/offset`, [], [offset])], n);
      return y === x ? g.add('Identity', [x], n) : y;
    }
    case 'PadToMultiple': {
      // pads = [0,0,0,0, 0,0,(m - H % m) % m,(m - W % m) % m], edge mode.
      const m = g.intConst(`${n}/m`, [c.multiple as number]);
      const hw = g.add('Slice', [g.add('Shape', [x], `${n}_shape`), g.intConst(`${n}/s`, [2]), g.intConst(`${n}/e`, [4])], `${n}_hw`);
      const pad = g.add('Mod', [g.add('Sub', [m, g.add('Mod', [hw, m], `${n}_rem`)], `${n}_sub`), m], `${n}_amount`);
      const pads = g.add('Concat', [g.intConst(`${n}/zeros`, [0, 0, 0, 0, 0, 0]), pad], `${n}_pads`, { axis: attr.int(0) });
      return g.add('Pad', [x, pads], n, { mode: attr.string('edge') });
    }
    case 'CropToScaledInput': {
      const hw = g.add('Slice', [g.add('Shape', [ins[1]], `${n}_shape`), g.intConst(`${n}/s`, [2]), g.intConst(`${n}/e`, [4])], `${n}_hw`);
      const ends = g.add('Mul', [hw, g.intConst(`${n}/scale`, [c.scale as number])], `${n}_ends`);
      return g.add('Slice', [ins[0], g.intConst(`${n}/starts`, [0, 0]), ends, g.intConst(`${n}/axes`, [2, 3])], n);
    }
    case 'GlobalGate': {
      // y = x · 2σ(mean_HW(x)·W + b): ReduceMean over H, W (kept as 1×1) and a 1×1 conv with W transposed.
      const [kernel, bias] = layer.getWeights();
      const ch = kernel.shape[0];
      const mean = g.add('ReduceMean', [x], `${n}_mean`, { axes: attr.ints([2, 3]), keepdims: attr.int(1) });
      const w = g.floatConst(`${n}/W`, [ch, ch, 1, 1], data(kernel, [1, 0]));
      const logits = g.add('Conv', [mean, w, g.floatConst(`${n}/B`, [ch], data(bias))], `${n}_fc`, { kernel_shape: attr.ints([1, 1]) });
      const gate = g.add('Mul', [g.add('Sigmoid', [logits], `${n}_sigmoid`), g.floatConst(`${n}/two`, [], [2])], `${n}_gate`);
      return g.add('Mul', [x, gate], n);
    }
    case 'ChannelShift':
      return convertChannelShift(g, layer, x, channelsOf(layer));
    case 'StripedWindowAttention':
      return convertStripedWindowAttention(g, layer, x, channelsOf(layer));
    default:
      throw new ModelError(
        `ONNX export: layer "${n}" of class ${cls} is not supported. Supported: Conv2D, DepthwiseConv2D, PReLU, Activation, ReLU, LeakyReLU, ELU, Add, Multiply, Maximum, Minimum, Average, Concatenate, BatchNormalization, UpSampling2D, ZeroPadding2D and the sharpen-kd layers.`,
      );
  }
}
