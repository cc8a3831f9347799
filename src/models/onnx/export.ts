/**
 * `exportOnnx`: writes a sharpen-kd model (students, teacher, adopted teachers) as an ONNX graph with a
 * hand-written protobuf encoder (no Python, no protobuf dependency).
 *
 * Layout: the ONNX model takes and returns NHWC float32 RGB in [0, 1] like the TF.js model (`layout:
 * 'nhwc'`, default): a Transpose after the input and before each output converts to and from NCHW, the
 * layout ONNX Conv uses internally. `layout: 'nchw'` drops those two transposes and exposes NCHW input
 * `[N, 3, H, W]` and output `[N, 3, H*s, W*s]`, for pipelines that are NCHW already. H and W stay symbolic.
 *
 * The graph is a direct translation (one or a few ONNX nodes per Keras layer), except for the students' output
 * stage: the nearest global residual is added at low resolution before the pixel shuffle (`fuse-residual.ts`,
 * `fuseResidual: false` turns it off), and their unshuffle front end: the pixel unshuffle and the conv after it are
 * one strided conv of the input (`fuse-unshuffle.ts`, `fuseUnshuffle: false` turns it off). Two other rewrites were measured with ONNX Runtime and not kept:
 * folding the nearest global residual into the last conv (no CPU-time change: the HR Resize + Add it saves is
 * paid back by a conv whose channel count leaves the NCHWc fast path), and writing the final pixel shuffle straight to NHWC with a 6-D Transpose (2.7x slower than
 * DepthToSpace + Transpose). Two more for the luma students' bilinear residual, A/B'd on one thread by CPU time (a loaded machine) per
 * ×4 1280×720 frame: adding the 1-channel detail to an NHWC Resize of the input, so that no output Transpose is
 * needed (121.2 vs 86.6 CPU-ms: ONNX Runtime's broadcasting Add over the last axis and NHWC Resize are slow), and the
 * bilinear upsample as a fixed 3×3 grouped conv + DepthToSpace(CRD) (97.4 vs 97.6: the 48-channel DepthToSpace costs
 * what the Resize saves).
 *
 * `target: 'ort-cpu'` adds rewrites for ONNX Runtime's CPU provider (`ort-cpu.ts`).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, ModelError } from '../../errors';
import { modelGraph, type GraphNode } from '../graph';
import { mergedOptions } from '../layers/rep-conv';
import { findModelInfo } from '../metadata';
import { convertLayer } from './convert-layer';
import { findFusableShuffles } from './fuse-residual';
import { convertUnshuffledConv, findFusableUnshuffles } from './fuse-unshuffle';
import { LUMA_DETAIL_KEY, type LumaDetailInfo } from './i420-output';
import { attr, encodeOnnxModel, OnnxGraph } from './onnx-model';
import { rewritePreluForNchwc } from './ort-cpu';

/**
 * Options of {@link exportOnnx}.
 *
 * @example
 * ```ts
 * const opts: OnnxExportOptions = { opset: 17, layout: 'nhwc' };
 * ```
 */
export interface OnnxExportOptions {
  /** ONNX opset, 13 to 17 (default 17). */
  opset?: number;
  /** Input/output layout (default `'nhwc'`, same as TF.js). */
  layout?: 'nhwc' | 'nchw';
  /**
   * Emit a student's final pixel shuffle + nearest global residual as an add at low resolution before the
   * shuffle (same output, no high-resolution Resize; see `fuse-residual.ts`). Default true; false gives the
   * layer-by-layer translation.
   */
  fuseResidual?: boolean;
  /**
   * Emit a student's pixel unshuffle front end and the conv after it as one strided conv of the input (same output,
   * no SpaceToDepth; see `fuse-unshuffle.ts`). Default true; false gives the layer-by-layer translation.
   */
  fuseUnshuffle?: boolean;
  /**
   * `'any'` (default): a graph for every ONNX runtime. `'ort-cpu'`: rewrites that suit ONNX Runtime's CPU provider
   * and cost elsewhere (PReLU as depthwise 1×1 conv + Relu + Add, which its blocked NCHWc layout keeps; see
   * `ort-cpu.ts`). `createOnnxRunner` in Node exports with `'ort-cpu'`.
   */
  target?: 'any' | 'ort-cpu';
  /** Extra `metadata_props` entries of the ModelProto (key → value). */
  metadata?: Record<string, string>;
}

/** Name of the ONNX graph input. */
export const ONNX_INPUT = 'input';
/** Name of the first ONNX graph output. */
export const ONNX_OUTPUT = 'output';

/**
 * Converts `model` to ONNX bytes and, when `file` is given (Node), also writes them there atomically.
 * Outputs are named `output` (the image) and, for a {@link sharpen-kd/models!tapModel | tapModel}, then the tap layer names
 * (every output of a multi-output model, in order, NHWC or NCHW like the image).
 *
 * @throws ModelError for a layer that has no ONNX mapping; ConfigError for bad options.
 * @example
 * ```ts
 * const bytes = await exportOnnx(student);                 // Uint8Array
 * await exportOnnx(student, 'dist/x4.onnx');               // also written to disk
 * // onnxruntime: session.run({ input: new ort.Tensor('float32', data, [1, h, w, 3]) })
 * ```
 */
export async function exportOnnx(model: tfl.LayersModel, file?: string, opts: OnnxExportOptions = {}): Promise<Uint8Array> {
  const bytes = modelToOnnx(model, opts);
  if (file !== undefined) {
    const { writeFileAtomic } = await import('../../io/atomic-write');
    await writeFileAtomic(file, bytes);
  }
  return bytes;
}

/**
 * Synchronous core of {@link exportOnnx}: the ONNX ModelProto bytes of `model`.
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(modelToOnnx(student));
 * ```
 */
export function modelToOnnx(model: tfl.LayersModel, opts: OnnxExportOptions = {}): Uint8Array {
  const { graph, encode } = modelToOnnxGraph(model, opts);
  return encodeOnnxModel(graph, encode);
}

/** @internal The graph {@link modelToOnnx} encodes, and the ModelProto fields it encodes it with (for graph rewrites). */
export interface OnnxExport {
  graph: OnnxGraph;
  encode: Parameters<typeof encodeOnnxModel>[1];
}

/**
 * @internal {@link modelToOnnx} before encoding: the in-memory graph, to rewrite further (e.g. `quantize-int8.ts`)
 * and then encode with `encodeOnnxModel(graph, encode)`.
 */
export function modelToOnnxGraph(model: tfl.LayersModel, opts: OnnxExportOptions = {}): OnnxExport {
  const opset = opts.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 13 || opset > 17) throw new ConfigError(`opset must be an integer from 13 to 17, got ${String(opset)}`);
  const layout = opts.layout ?? 'nhwc';
  if (layout !== 'nhwc' && layout !== 'nchw') throw new ConfigError(`layout must be 'nhwc' or 'nchw', got ${String(layout)}`);
  const target = opts.target ?? 'any';
  if (target !== 'any' && target !== 'ort-cpu') throw new ConfigError(`target must be 'any' or 'ort-cpu', got ${String(target)}`);
  if (model.inputs.length !== 1) throw new ModelError(`ONNX export supports models with one input, "${model.name}" has ${model.inputs.length}`);
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4) throw new ModelError(`ONNX export needs a 4-D NHWC image input, got shape ${JSON.stringify(inShape)}`);

  const g = new OnnxGraph();
  const names = new Map<number, string>();
  const dim = (v: number | null, sym: string) => (v == null ? sym : v);
  const [, h, w, c] = inShape;
  g.unique(ONNX_INPUT);
  // Reserve the output names first so that internal tensors never take them.
  const outNames = model.outputs.map((t, i) => g.unique(i === 0 ? ONNX_OUTPUT : t.sourceLayer.name));
  if (layout === 'nhwc') g.inputs.push({ name: ONNX_INPUT, dims: ['N', dim(h, 'H'), dim(w, 'W'), dim(c, 'C')] });
  else g.inputs.push({ name: ONNX_INPUT, dims: ['N', dim(c, 'C'), dim(h, 'H'), dim(w, 'W')] });

  const nodes = modelGraph(model);
  // A shuffle whose output is also a model output (a tap) must be emitted on its own: the fused form never has it.
  const modelOutputs = new Set(model.outputs.map((t) => t.id));
  const fusable = opts.fuseResidual === false ? new Map() : new Map([...findFusableShuffles(nodes)].filter(([, f]) => !f.shuffle.outputs.some((t) => modelOutputs.has(t.id))));
  const fusedResidual = new Map([...fusable.values()].map((f) => [f.residual.layer.name, f]));
  // The same for an unshuffle front end (`fuse-unshuffle.ts`), keyed by the conv that reads the unshuffled tensor.
  const unshuffled = opts.fuseUnshuffle === false ? new Map() : new Map([...findFusableUnshuffles(nodes)].filter(([, f]) => !f.unshuffle.outputs.some((t) => modelOutputs.has(t.id))));
  const skipped = new Set([...unshuffled.values()].map((f) => f.unshuffle.layer.name));
  let lumaDetailInfo: LumaDetailInfo | undefined;
  for (const node of nodes) {
    if (node.inputs.length === 0) {
      const nchw = layout === 'nhwc' ? g.add('Transpose', [ONNX_INPUT], 'input_nchw', { perm: attr.ints([0, 3, 1, 2]) }) : ONNX_INPUT;
      for (const t of node.outputs) names.set(t.id, nchw);
      continue;
    }
    if (node.outputs.length !== 1) throw new ModelError(`ONNX export: layer "${node.layer.name}" has several outputs, which is not supported`);
    const ins = node.inputs.map((t) => names.get(t.id)!);
    if (skipped.has(node.layer.name)) {
      names.set(node.outputs[0].id, ins[0]); // the image: the conv after it reads it through its strided kernel
      continue;
    }
    const front = unshuffled.get(node.layer.name);
    if (front) {
      names.set(node.outputs[0].id, convertUnshuffledConv(g, front, ins[0]));
      continue;
    }
    if (fusable.has(node.layer.name)) {
      names.set(node.outputs[0].id, ins[0]); // the conv output: the shuffle is emitted after the fused add
      continue;
    }
    const fused = fusedResidual.get(node.layer.name);
    if (fused) {
      const s = fused.scale;
      const n = node.layer.name;
      const tiled = g.add('Tile', [ins[1], g.intConst(`${n}/repeats`, [1, s * s, 1, 1])], `${n}_tile`);
      const sum = g.add('Add', [ins[0], tiled], `${n}_add`);
      names.set(node.outputs[0].id, g.add('DepthToSpace', [sum], n, { blocksize: attr.int(s), mode: attr.string('DCR') }));
      continue;
    }
    const detail = lumaDetail(node, ins, model, layout);
    if (detail) lumaDetailInfo = { ...detail, tensor: ins[0] };
    names.set(node.outputs[0].id, convertLayer(g, node.layer, ins));
  }

  model.outputs.forEach((t, i) => {
    const outName = outNames[i];
    const src = names.get(t.id)!;
    const rank = t.shape.length;
    if (rank !== 4) throw new ModelError(`ONNX export: output ${i} is not 4-D`);
    const sym = i === 0 ? ['N', 'OH', 'OW'] : ['N', `${outName}_H`, `${outName}_W`];
    const ch = dim(t.shape[3], `${outName}_C`);
    if (layout === 'nhwc') {
      g.nodes.push({ op: 'Transpose', inputs: [src], outputs: [outName], name: g.unique(`${outName}_to_nhwc`), attrs: { perm: attr.ints([0, 2, 3, 1]) } });
      g.outputs.push({ name: outName, dims: [sym[0], sym[1], sym[2], ch] });
    } else {
      // The node that makes the output writes it under the output's name: an Identity here would be a copy of the
      // whole frame on every run (ONNX Runtime keeps an Identity that writes a graph output).
      const producer = g.nodes.find((nd) => nd.outputs.includes(src));
      const alsoOutput = model.outputs.some((u, j) => j !== i && names.get(u.id) === src);
      if (producer && !alsoOutput && !g.outputs.some((o) => o.name === src)) {
        producer.outputs = producer.outputs.map((o) => (o === src ? outName : o));
        for (const nd of g.nodes) nd.inputs = nd.inputs.map((v) => (v === src ? outName : v));
        names.set(t.id, outName);
      } else {
        g.nodes.push({ op: 'Identity', inputs: [src], outputs: [outName], name: g.unique(`${outName}_identity`), attrs: {} });
      }
      g.outputs.push({ name: outName, dims: [sym[0], ch, sym[1], sym[2]] });
    }
  });

  if (target === 'ort-cpu') rewritePreluForNchwc(g);

  const info = findModelInfo(model);
  const metadata: Record<string, string> = { ...opts.metadata, layout, 'value-range': '[0, 1] RGB float32' };
  // The graph holds merged kernels for re-parameterizable convs: describe it as the plain net (as reparameterize does).
  if (info) metadata['sharpen-kd'] = JSON.stringify({ ...info, options: mergedOptions(info.options) });
  if (lumaDetailInfo) metadata[LUMA_DETAIL_KEY] = JSON.stringify(lumaDetailInfo);
  return { graph: g, encode: { graphName: model.name, opset, producerVersion: '0.0.0', metadata, docString: `sharpen-kd export of ${model.name}` } };
}

/**
 * The model's final layer when it adds a one-channel detail to the bilinear upsample of the (planar) graph input
 * and makes the model's only output.
 */
function lumaDetail(node: GraphNode, ins: string[], model: tfl.LayersModel, layout: string): { scale: number } | undefined {
  if (layout !== 'nchw' || node.layer.getClassName() !== 'AddUpsampledInput' || model.outputs.length !== 1) return undefined;
  const c = node.layer.getConfig() as { scale?: number; interpolation?: string };
  const ok = c.interpolation === 'bilinear' && typeof c.scale === 'number' && c.scale > 1 && ins[1] === ONNX_INPUT;
  const detailChannels = node.inputs[0].shape[3];
  return ok && detailChannels === 1 && node.outputs[0].id === model.outputs[0].id ? { scale: c.scale! } : undefined;
}
