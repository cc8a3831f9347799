/**
 * Export-time rewrite of the students' unshuffle front end (`compact.ts` with `unshuffle` u > 1, the ×1 net). The
 * TF.js graph is
 *
 *   input (padded to a multiple of u) → PixelUnshuffle(u) → conv k×k, stride 1, 'same'   [u²·C channels at 1/u size]
 *
 * and a k×k conv over the unshuffled tensor reads, for each low-resolution pixel, the k·u × k·u input pixels of its
 * k×k block neighbourhood: it is one convolution of the input itself with a (k·u)×(k·u) kernel, stride u and u·(k−1)/2
 * zero pixels of padding on each side (the unshuffled tensor's zero padding is that many zero input pixels):
 *
 *   W′[o, c, ky·u + dy, kx·u + dx] = W[ky, kx, (dy·u + dx)·C + c, o]
 *
 * (TF's spaceToDepth channel order (dy·u + dx)·C + c, which is ONNX SpaceToDepth's). Same multiply-adds, and no
 * SpaceToDepth: ONNX Runtime's CPU provider moves the whole input frame for it, a tenth of the ×1 net's time at
 * 1280×720.
 *
 * A compact net with `inputSkip` reads the unshuffled tensor a second time, through its last conv over
 * Concat(features, unshuffled). That conv is the sum of two convs over the two parts, so it is emitted as
 *
 *   Conv(features, W[:, :, :F]) + Conv(input, W′ of W[:, :, F:] as above, stride u)
 *
 * and the SpaceToDepth is still never needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphNode } from '../graph';
import { RepConv2D } from '../layers/rep-conv';
import { activation } from './convert-layer';
import { attr, type OnnxGraph } from './onnx-model';

/**
 * A PixelUnshuffle call whose consumers are a plain k×k conv (k odd, stride 1, no dilation, 'same') and, for a net with
 * an input skip, a last-axis Concat(features, unshuffled) whose only consumer is another such conv.
 */
export interface FusableUnshuffle {
  /** The PixelUnshuffle call (not emitted). */
  unshuffle: GraphNode;
  /** The conv call (emitted as one strided conv of the unshuffle's input). */
  conv: GraphNode;
  factor: number;
  /** The input skip: the Concat (not emitted) and the conv after it (emitted as two convs and an Add). */
  skip?: { concat: GraphNode; conv: GraphNode };
}

const cfg = (l: tfl.layers.Layer) => l.getConfig() as Record<string, unknown>;
const all1 = (v: unknown) => (Array.isArray(v) ? v.every((x) => x === 1) : v === undefined || v === 1);

/** A plain odd k×k conv, stride 1, no dilation, 'same', channels last. */
function plainSameConv(n: GraphNode | undefined): boolean {
  if (!n || !['Conv2D', 'RepConv2D'].includes(n.layer.getClassName())) return false;
  const c = cfg(n.layer);
  const k = Array.isArray(c.kernelSize) ? (c.kernelSize as number[]) : [c.kernelSize as number, c.kernelSize as number];
  return k[0] === k[1] && k[0] % 2 === 1 && all1(c.strides) && all1(c.dilationRate) && c.padding === 'same' && (c.dataFormat ?? 'channelsLast') === 'channelsLast';
}

/**
 * @internal Finds the unshuffle → conv pairs of a graph, keyed by the conv layer name (and, for an input skip, by the
 * name of the conv after the Concat too).
 */
export function findFusableUnshuffles(nodes: GraphNode[]): Map<string, FusableUnshuffle> {
  const consumers = new Map<number, GraphNode[]>();
  for (const n of nodes) for (const t of n.inputs) consumers.set(t.id, [...(consumers.get(t.id) ?? []), n]);
  const out = new Map<string, FusableUnshuffle>();
  for (const unshuffle of nodes) {
    if (unshuffle.layer.getClassName() !== 'PixelUnshuffle' || unshuffle.inputs[0].shape[3] == null) continue;
    const low = unshuffle.outputs[0].id;
    const users = consumers.get(low) ?? [];
    const conv = users.find((n) => n.layer.getClassName() !== 'Concatenate');
    const concat = users.find((n) => n.layer.getClassName() === 'Concatenate');
    if (!plainSameConv(conv) || users.length !== (concat ? 2 : 1)) continue;
    let skip: FusableUnshuffle['skip'];
    if (concat) {
      const axis = cfg(concat.layer).axis as number;
      const after = consumers.get(concat.outputs[0].id) ?? [];
      const lastAxis = axis === -1 || axis === 3;
      if (!lastAxis || concat.inputs.length !== 2 || concat.inputs[1].id !== low || concat.inputs[0].id === low) continue;
      if (after.length !== 1 || !plainSameConv(after[0]) || concat.inputs[0].shape[3] == null) continue;
      skip = { concat, conv: after[0] };
    }
    const f: FusableUnshuffle = { unshuffle, conv: conv!, factor: cfg(unshuffle.layer).factor as number, ...(skip ? { skip } : {}) };
    out.set(conv!.layer.name, f);
    if (skip) out.set(skip.conv.layer.name, f);
  }
  return out;
}

/** The kernel of a k×k conv over the u-unshuffled C-channel image as one (k·u)×(k·u) kernel over the image, OIHW. */
function imageKernel(w: tf.Tensor, u: number, channels: number): Float32Array {
  const [k, , , outCh] = w.shape;
  // [k, k, u²C, O] → [ky, kx, dy, dx, c, O] → [O, c, ky, dy, kx, dx] → [O, C, k·u, k·u]
  return tf.tidy(() => tf.transpose(tf.reshape(w, [k, k, u, u, channels, outCh]), [5, 4, 0, 2, 1, 3]).dataSync() as Float32Array).slice();
}

/** Emits `Conv(x, W′, B)` with the strided (k·u)×(k·u) kernel of {@link imageKernel}; returns its output name. */
function stridedImageConv(g: OnnxGraph, name: string, x: string, w: tf.Tensor, b: tf.Tensor | undefined, u: number, channels: number): string {
  const [k, , , outCh] = w.shape;
  const inputs = [x, g.floatConst(`${name}/W`, [outCh, channels, k * u, k * u], imageKernel(w, u, channels))];
  if (b) inputs.push(g.floatConst(`${name}/B`, [b.shape[0]], b.dataSync() as Float32Array));
  const pad = ((k - 1) / 2) * u;
  return g.add('Conv', inputs, name, {
    kernel_shape: attr.ints([k * u, k * u]),
    strides: attr.ints([u, u]),
    dilations: attr.ints([1, 1]),
    group: attr.int(1),
    pads: attr.ints([pad, pad, pad, pad]),
  });
}

/** A conv layer's kernel and bias (merged for a RepConv2D); the caller disposes `merged`. */
function convWeights(layer: tfl.layers.Layer): { w: tf.Tensor; b: tf.Tensor | undefined; merged?: tf.Tensor[] } {
  const merged = layer instanceof RepConv2D ? layer.mergedWeights() : undefined;
  const [w, b] = merged ?? layer.getWeights();
  return { w, b: cfg(layer).useBias !== false ? b : undefined, merged };
}

/** @internal Emits the fused conv of `f` reading `x` (the unshuffle's NCHW input); returns its output tensor name. */
export function convertUnshuffledConv(g: OnnxGraph, f: FusableUnshuffle, x: string): string {
  const layer = f.conv.layer;
  const { w, b, merged } = convWeights(layer);
  try {
    const y = stridedImageConv(g, layer.name, x, w, b, f.factor, f.unshuffle.inputs[0].shape[3]!);
    return activation(g, y, cfg(layer).activation as string | undefined, `${layer.name}_act`);
  } finally {
    if (merged) tf.dispose(merged);
  }
}

/**
 * @internal Emits the conv after an input skip's Concat as Conv(`features`) + strided Conv(`image`) (see the file
 * comment); returns its output tensor name.
 */
export function convertSkipConv(g: OnnxGraph, f: FusableUnshuffle, features: string, image: string): string {
  const layer = f.skip!.conv.layer;
  const featureChannels = f.skip!.concat.inputs[0].shape[3]!;
  const { w, b, merged } = convWeights(layer);
  try {
    const [k, , inCh, outCh] = w.shape;
    const [wf, wi] = tf.split(w, [featureChannels, inCh - featureChannels], 2);
    try {
      const kernel = tf.tidy(() => tf.transpose(wf, [3, 2, 0, 1]).dataSync() as Float32Array).slice();
      const inputs = [features, g.floatConst(`${layer.name}_features/W`, [outCh, featureChannels, k, k], kernel)];
      if (b) inputs.push(g.floatConst(`${layer.name}_features/B`, [b.shape[0]], b.dataSync() as Float32Array));
      const pad = (k - 1) / 2;
      const fromFeatures = g.add('Conv', inputs, `${layer.name}_features`, {
        kernel_shape: attr.ints([k, k]),
        strides: attr.ints([1, 1]),
        dilations: attr.ints([1, 1]),
        group: attr.int(1),
        pads: attr.ints([pad, pad, pad, pad]),
      });
      const fromImage = stridedImageConv(g, `${layer.name}_image`, image, wi, undefined, f.factor, f.unshuffle.inputs[0].shape[3]!);
      const y = g.add('Add', [fromFeatures, fromImage], layer.name);
      return activation(g, y, cfg(layer).activation as string | undefined, `${layer.name}_act`);
    } finally {
      tf.dispose([wf, wi]);
    }
  } finally {
    if (merged) tf.dispose(merged);
  }
}
