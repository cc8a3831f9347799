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
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphNode } from '../graph';
import { RepConv2D } from '../layers/rep-conv';
import { activation } from './convert-layer';
import { attr, type OnnxGraph } from './onnx-model';

/** A PixelUnshuffle call whose only consumer is a plain k×k conv (k odd, stride 1, no dilation, 'same'). */
export interface FusableUnshuffle {
  /** The PixelUnshuffle call (not emitted). */
  unshuffle: GraphNode;
  /** The conv call (emitted as one strided conv of the unshuffle's input). */
  conv: GraphNode;
  factor: number;
}

const cfg = (l: tfl.layers.Layer) => l.getConfig() as Record<string, unknown>;
const all1 = (v: unknown) => (Array.isArray(v) ? v.every((x) => x === 1) : v === undefined || v === 1);

/** @internal Finds the unshuffle → conv pairs of a graph, keyed by the conv layer name. */
export function findFusableUnshuffles(nodes: GraphNode[]): Map<string, FusableUnshuffle> {
  const consumers = new Map<number, GraphNode[]>();
  for (const n of nodes) for (const t of n.inputs) consumers.set(t.id, [...(consumers.get(t.id) ?? []), n]);
  const out = new Map<string, FusableUnshuffle>();
  for (const unshuffle of nodes) {
    if (unshuffle.layer.getClassName() !== 'PixelUnshuffle') continue;
    const users = consumers.get(unshuffle.outputs[0].id) ?? [];
    const conv = users[0];
    if (users.length !== 1 || !['Conv2D', 'RepConv2D'].includes(conv.layer.getClassName())) continue;
    const c = cfg(conv.layer);
    const k = Array.isArray(c.kernelSize) ? (c.kernelSize as number[]) : [c.kernelSize as number, c.kernelSize as number];
    if (k[0] !== k[1] || k[0] % 2 !== 1 || !all1(c.strides) || !all1(c.dilationRate) || c.padding !== 'same') continue;
    if ((c.dataFormat ?? 'channelsLast') !== 'channelsLast' || unshuffle.inputs[0].shape[3] == null) continue;
    out.set(conv.layer.name, { unshuffle, conv, factor: cfg(unshuffle.layer).factor as number });
  }
  return out;
}

/** @internal Emits the fused conv of `f` reading `x` (the unshuffle's NCHW input); returns its output tensor name. */
export function convertUnshuffledConv(g: OnnxGraph, f: FusableUnshuffle, x: string): string {
  const layer = f.conv.layer;
  const c = cfg(layer);
  const u = f.factor;
  const channels = f.unshuffle.inputs[0].shape[3]!;
  const merged = layer instanceof RepConv2D ? layer.mergedWeights() : undefined;
  const [w, b] = merged ?? layer.getWeights();
  try {
    const [k, , , outCh] = w.shape;
    // [k, k, u²C, O] → [ky, kx, dy, dx, c, O] → [O, c, ky, dy, kx, dx] → [O, C, k·u, k·u]
    const kernel = tf.tidy(() => tf.transpose(tf.reshape(w, [k, k, u, u, channels, outCh]), [5, 4, 0, 2, 1, 3]).dataSync() as Float32Array).slice();
    const inputs = [x, g.floatConst(`${layer.name}/W`, [outCh, channels, k * u, k * u], kernel)];
    if (c.useBias !== false && b) inputs.push(g.floatConst(`${layer.name}/B`, [b.shape[0]], b.dataSync() as Float32Array));
    const pad = ((k - 1) / 2) * u;
    const y = g.add('Conv', inputs, layer.name, {
      kernel_shape: attr.ints([k * u, k * u]),
      strides: attr.ints([u, u]),
      dilations: attr.ints([1, 1]),
      group: attr.int(1),
      pads: attr.ints([pad, pad, pad, pad]),
    });
    return activation(g, y, c.activation as string | undefined, `${layer.name}_act`);
  } finally {
    if (merged) tf.dispose(merged);
  }
}
