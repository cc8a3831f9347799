/**
 * Export-time graph optimisations (exact, no numerical change beyond float rounding order):
 *
 * 1. Residual folding. `conv -> [pixel shuffle r] -> + nearest(x, r)` equals one convolution over
 *    `concat(h, x)` whose extra input channels carry an identity at the kernel centre: output channel
 *    `(i*r + j)*3 + c` of the sub-pixel conv lands on HR pixel `(h*r+i, w*r+j)`, channel c, exactly where
 *    nearest upsampling puts `x[h, w, c]`. This removes the HR-resolution Resize and Add.
 * 2. Shuffle to NHWC. A pixel shuffle that feeds the model output directly is emitted as
 *    Reshape -> Transpose -> Reshape straight to NHWC, one HR pass instead of DepthToSpace + Transpose.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeModel } from '../describe';
import type { GraphNode } from '../graph';

/** @internal What the exporter fuses. */
export interface FusionPlan {
  /** Conv nodes that absorb a residual: node -> (tensor id of the residual input x, channels of x). */
  residualConv: Map<GraphNode, { xId: number }>;
  /** Output tensor id of a folded AddUpsampledInput -> tensor id it equals after folding. */
  alias: Map<number, number>;
  /** A PixelShuffle node whose output (after aliasing) is model output 0, to emit as NHWC directly. */
  shuffleToOutput?: GraphNode;
}

function cfg(l: tfl.layers.Layer): Record<string, unknown> {
  return l.getConfig() as Record<string, unknown>;
}

const ones = (v: unknown) => (Array.isArray(v) ? v : [v]).every((x) => x === 1);

/** @internal Finds the fusions that apply to `model` (see the file comment). */
export function planFusions(model: tfl.LayersModel, nodes: GraphNode[], layout: 'nhwc' | 'nchw'): FusionPlan {
  const plan: FusionPlan = { residualConv: new Map(), alias: new Map() };
  const producer = new Map<number, GraphNode>();
  const uses = new Map<number, number>();
  for (const n of nodes) {
    for (const t of n.outputs) producer.set(t.id, n);
    for (const t of n.inputs) uses.set(t.id, (uses.get(t.id) ?? 0) + 1);
  }
  for (const t of model.outputs) uses.set(t.id, (uses.get(t.id) ?? 0) + 1);
  const single = (id: number) => uses.get(id) === 1;
  const calledOnce = (n: GraphNode) => n.layer.inboundNodes.length === 1;

  // Concrete shapes (by layer name) to check that x and the conv input share one resolution.
  let shapes: Map<string, number[]> | undefined;
  const shapeOf = (id: number): number[] | undefined => {
    shapes ??= new Map(describeModel(model, { inputSize: [24, 40] }).layers.map((l) => [l.name, l.outputShape]));
    const p = producer.get(id);
    if (!p) return undefined;
    return p.inputs.length === 0 ? [1, 24, 40, model.inputs[0].shape[3] as number] : shapes.get(p.layer.name);
  };

  for (const add of nodes) {
    if (add.layer.getClassName() !== 'AddUpsampledInput' || add.inputs.length !== 2) continue;
    const a = cfg(add.layer);
    const r = a.scale as number;
    if (r > 1 && a.interpolation !== 'nearest') continue;
    const [res, x] = add.inputs;
    let convOut = res;
    let shuffle: GraphNode | undefined;
    if (r > 1) {
      shuffle = producer.get(res.id);
      if (!shuffle || shuffle.layer.getClassName() !== 'PixelShuffle' || cfg(shuffle.layer).scale !== r || !single(res.id) || !calledOnce(shuffle)) continue;
      convOut = shuffle.inputs[0];
    }
    const conv = producer.get(convOut.id);
    if (!conv || conv.layer.getClassName() !== 'Conv2D' || !single(convOut.id) || !calledOnce(conv)) continue;
    const c = cfg(conv.layer);
    const k = Array.isArray(c.kernelSize) ? (c.kernelSize as number[]) : [c.kernelSize as number, c.kernelSize as number];
    if (c.padding !== 'same' || !ones(c.strides) || !ones(c.dilationRate) || (c.activation ?? 'linear') !== 'linear' || k[0] % 2 === 0 || k[1] % 2 === 0) continue;
    const xs = shapeOf(x.id);
    const hs = shapeOf(conv.inputs[0].id);
    const cout = c.filters as number;
    if (!xs || !hs || xs[1] !== hs[1] || xs[2] !== hs[2] || xs[3] * r * r !== cout) continue;
    plan.residualConv.set(conv, { xId: x.id });
    plan.alias.set(add.outputs[0].id, res.id);
  }

  if (layout === 'nhwc') {
    const resolve = (id: number) => {
      while (plan.alias.has(id)) id = plan.alias.get(id)!;
      return id;
    };
    const id = resolve(model.outputs[0].id);
    const p = producer.get(id);
    // The shuffle output must feed nothing but model output 0 (directly or through a folded residual).
    const consumers = nodes.filter((n) => n.inputs.some((t) => t.id === id) && !plan.alias.has(n.outputs[0].id));
    const asOutput = model.outputs.filter((t) => resolve(t.id) === id).length;
    if (p && p.layer.getClassName() === 'PixelShuffle' && calledOnce(p) && consumers.length === 0 && asOutput === 1) plan.shuffleToOutput = p;
  }
  return plan;
}
