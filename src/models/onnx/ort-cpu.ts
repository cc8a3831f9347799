/**
 * Export-time rewrites for ONNX Runtime's CPU execution provider (`target: 'ort-cpu'` of {@link exportOnnx}).
 *
 * ONNX Runtime runs 3×3 convolutions with 16 channels in its blocked NCHWc layout (MLAS), and its layout pass keeps a
 * tensor blocked only through the ops it knows: Conv (also depthwise, with a fused Relu/Tanh/Sigmoid and a fused
 * Add), Relu, Add, Concat, pooling and nearest Resize. PRelu is not one of them, so the layer-by-layer graph of a
 * student pays, after every conv, ReorderOutput (blocked → NCHW) + PRelu (a broadcasting kernel) + ReorderInput
 * (NCHW → blocked): in `lab/scripts/profile-ort.ts` those three took a quarter of the frame, as much as half the convs.
 *
 * With a per-channel slope `a` ≤ 1, PReLU is `z + relu((a − 1)·z)` (for z ≥ 0 the Relu is 0; for z < 0 it adds
 * (a − 1)·z). That is a depthwise 1×1 conv with the fused Relu, plus an Add, all of which stay blocked. A channel with
 * a > 1 takes `z − relu((1 − a)·z)` instead: the sign goes into a second depthwise 1×1 conv that ONNX Runtime fuses
 * with the Add. Both forms are exact up to float rounding.
 *
 * Other runtimes (onnxruntime-web, other engines) have a plain PRelu kernel and run the rewritten graph slower,
 * which is why this is a target and not the default.
 */
import { attr, type OnnxGraph, type OnnxNode } from './onnx-model';

/**
 * @internal Replaces every PRelu whose slope is a constant `[C, 1, 1]` tensor by depthwise conv + Relu + Add (see the
 * file comment). Keeps the node order topological and the output names.
 */
export function rewritePreluForNchwc(g: OnnxGraph): void {
  const consts = new Map(g.initializers.map((t) => [t.name, t]));
  const out: OnnxNode[] = [];
  const dropped = new Set<string>();
  for (const node of g.nodes) {
    const slope = node.op === 'PRelu' ? consts.get(node.inputs[1]) : undefined;
    if (!slope || !(slope.data instanceof Float32Array) || slope.dims.length !== 3 || slope.dims[1] !== 1 || slope.dims[2] !== 1) {
      out.push(node);
      continue;
    }
    const c = slope.dims[0];
    const a = slope.data;
    const [z] = node.inputs;
    const [y] = node.outputs;
    const base = node.outputs[0];
    const mixed = a.some((v) => v > 1);
    const dw = { group: attr.int(c), kernel_shape: attr.ints([1, 1]), strides: attr.ints([1, 1]), pads: attr.ints([0, 0, 0, 0]), dilations: attr.ints([1, 1]) };
    const scale = g.floatConst(`${base}/neg_scale`, [c, 1, 1, 1], Float32Array.from(a, (v) => (v <= 1 ? v - 1 : 1 - v)));
    const m = g.unique(`${base}_neg`);
    const q = g.unique(`${base}_neg_relu`);
    out.push({ op: 'Conv', inputs: [z, scale], outputs: [m], name: g.unique(`${base}_neg_Conv`), attrs: dw });
    out.push({ op: 'Relu', inputs: [m], outputs: [q], name: g.unique(`${base}_neg_Relu`), attrs: {} });
    if (!mixed) {
      out.push({ op: 'Add', inputs: [z, q], outputs: [y], name: g.unique(`${base}_Add`), attrs: {} });
    } else {
      const sign = g.floatConst(`${base}/sign`, [c, 1, 1, 1], Float32Array.from(a, (v) => (v <= 1 ? 1 : -1)));
      const sq = g.unique(`${base}_signed`);
      out.push({ op: 'Conv', inputs: [q, sign], outputs: [sq], name: g.unique(`${base}_sign_Conv`), attrs: dw });
      out.push({ op: 'Add', inputs: [sq, z], outputs: [y], name: g.unique(`${base}_Add`), attrs: {} });
    }
    dropped.add(slope.name);
  }
  g.nodes.splice(0, g.nodes.length, ...out);
  const stillUsed = new Set(out.flatMap((n) => n.inputs));
  for (let i = g.initializers.length - 1; i >= 0; i--) {
    if (dropped.has(g.initializers[i].name) && !stillUsed.has(g.initializers[i].name)) g.initializers.splice(i, 1);
  }
}
