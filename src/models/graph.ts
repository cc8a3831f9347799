/**
 * Walks the graph of a functional LayersModel: every layer call between the model inputs and outputs, in
 * topological order, with its symbolic input and output tensors. Works for layers shared with other
 * models (only the calls that belong to this model's graph are returned).
 */
import type * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;
type Sym = tfl.SymbolicTensor;

/** One layer call of a model graph. */
export interface GraphNode {
  layer: Layer;
  inputs: Sym[];
  outputs: Sym[];
}

/** @internal The layer calls of `model` in topological order (model inputs first). */
export function modelGraph(model: tfl.LayersModel): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<string>();
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const key = (t: Sym) => `${t.sourceLayer.name}:${t.nodeIndex}`;

  // Iterative post-order DFS from the outputs (deep teachers would overflow a recursive walk).
  const stack: { t: Sym; expanded: boolean }[] = model.outputs.map((t) => ({ t, expanded: false })).reverse();
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const k = key(top.t);
    if (seen.has(k)) {
      stack.pop();
      continue;
    }
    const node = top.t.sourceLayer.inboundNodes[top.t.nodeIndex];
    const isInput = inputIds.has(top.t.id) || node.inputTensors.length === 0;
    if (!top.expanded && !isInput) {
      top.expanded = true;
      for (let i = node.inputTensors.length - 1; i >= 0; i--) {
        const inp = node.inputTensors[i];
        if (!seen.has(key(inp))) stack.push({ t: inp, expanded: false });
      }
      continue;
    }
    stack.pop();
    seen.add(k);
    order.push({ layer: top.t.sourceLayer, inputs: isInput ? [] : node.inputTensors, outputs: node.outputTensors });
  }
  return order;
}

/** @internal The output tensor of the layer named `name` inside `model`'s graph, if any. */
export function layerOutputInModel(model: tfl.LayersModel, name: string): Sym | undefined {
  const node = modelGraph(model).find((n) => n.layer.name === name);
  return node && node.outputs.length === 1 ? node.outputs[0] : undefined;
}
