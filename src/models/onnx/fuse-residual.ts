/**
 * Export-time rewrite of the students' output stage. The TF.js graph is
 *
 *   conv (3·s² channels) → PixelShuffle(s) → AddUpsampledInput(s, nearest)   [HR-resolution Resize + Add]
 *
 * and since a nearest upsample commutes with the pixel shuffle, the same output is
 *
 *   conv + Tile(input, s² times along channels) → DepthToSpace(s)            [LR-resolution Tile + Add]
 *
 * (TF's depthToSpace channel order (i·s + j)·C + c is ONNX DCR, so channel block k of the tiled input holds the
 * input's channel c at every sub-pixel position: exactly the nearest upsample). The HR Resize is a full pass over
 * the output frame; `scripts/bench-ort.ts` A/Bs the two graphs (`fuseResidual: false` is the layer-by-layer one).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphNode } from '../graph';

/** A PixelShuffle call whose only consumer is a nearest AddUpsampledInput of the same scale. */
export interface FusableShuffle {
  /** The PixelShuffle call (not emitted on its own). */
  shuffle: GraphNode;
  /** The AddUpsampledInput call (emitted as Tile + Add + DepthToSpace). */
  residual: GraphNode;
  scale: number;
}

const cfg = (l: tfl.layers.Layer) => l.getConfig() as Record<string, unknown>;

/** @internal Finds the shuffle → nearest-residual pairs of a graph, keyed by the PixelShuffle layer name. */
export function findFusableShuffles(nodes: GraphNode[]): Map<string, FusableShuffle> {
  const consumers = new Map<number, number>();
  for (const n of nodes) for (const t of n.inputs) consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
  const byOutput = new Map<number, GraphNode>();
  for (const n of nodes) for (const t of n.outputs) byOutput.set(t.id, n);
  const out = new Map<string, FusableShuffle>();
  for (const residual of nodes) {
    if (residual.layer.getClassName() !== 'AddUpsampledInput' || residual.inputs.length !== 2) continue;
    const c = cfg(residual.layer);
    const scale = c.scale as number;
    if (scale <= 1 || (c.interpolation ?? 'nearest') !== 'nearest') continue;
    const shuffle = byOutput.get(residual.inputs[0].id);
    if (!shuffle || shuffle.layer.getClassName() !== 'PixelShuffle' || cfg(shuffle.layer).scale !== scale) continue;
    if (consumers.get(residual.inputs[0].id) !== 1) continue;
    // Channels must match: the conv gives C·s², the skip input C.
    const convCh = shuffle.inputs[0].shape[3];
    const skipCh = residual.inputs[1].shape[3];
    if (convCh == null || skipCh == null || convCh !== skipCh * scale * scale) continue;
    out.set(shuffle.layer.name, { shuffle, residual, scale });
  }
  return out;
}
