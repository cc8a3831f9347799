/**
 * In-memory ONNX graph (nodes, initializers, inputs, outputs) and its serialisation to an ONNX ModelProto.
 * Field numbers follow onnx/onnx.proto3 (IR version 8, opset 17).
 */
import { PbWriter } from './proto';

/** ONNX TensorProto data types used here. */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT8 = 3;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;

/** An attribute value: number (INT if integer-typed via `int`), float, string, int list, float list. */
export type OnnxAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, OnnxAttr>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** float32, int64, or (quantized graphs, `quantize-int8.ts`) int8, uint8 and int32 data. */
  data: Float32Array | BigInt64Array | Int8Array | Uint8Array | Int32Array;
}

export interface OnnxValueInfo {
  name: string;
  /** Fixed sizes as numbers, symbolic ones as strings (e.g. 'N', 'H'). */
  dims: (number | string)[];
  /** TensorProto data type (default {@link ONNX_FLOAT}). */
  type?: number;
}

/** Attribute helpers. */
export const attr = {
  int: (value: number): OnnxAttr => ({ kind: 'int', value }),
  float: (value: number): OnnxAttr => ({ kind: 'float', value }),
  string: (value: string): OnnxAttr => ({ kind: 'string', value }),
  ints: (value: number[]): OnnxAttr => ({ kind: 'ints', value }),
  floats: (value: number[]): OnnxAttr => ({ kind: 'floats', value }),
};

/** @internal Mutable ONNX graph under construction. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private used = new Set<string>();

  /** A fresh tensor/node name based on `base`. */
  unique(base: string): string {
    let name = base.replace(/[^A-Za-z0-9_./:-]/g, '_');
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output and returns the output name. */
  add(op: string, inputs: string[], base: string, attrs: Record<string, OnnxAttr> = {}): string {
    const out = this.unique(base);
    this.nodes.push({ op, inputs, outputs: [out], name: this.unique(`${base}_${op}`), attrs });
    return out;
  }

  /** Adds a float32 initializer and returns its name. */
  floatConst(base: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data: data instanceof Float32Array ? data : Float32Array.from(data) });
    return name;
  }

  /** Adds an initializer of any supported type (int8, uint8, int32 for quantized graphs) and returns its name. */
  tensorConst(base: string, dims: number[], data: OnnxInitializer['data']): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** Adds an int64 initializer and returns its name. */
  intConst(base: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }
}

function writeAttr(w: PbWriter, name: string, a: OnnxAttr): void {
  // AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.value);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      w.int(20, 6);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      w.int(20, 7);
      break;
  }
}

/** @internal Writes a ValueInfoProto (name, float or given element type, dims) into a message. */
export function writeValueInfo(w: PbWriter, v: OnnxValueInfo): void {
  // ValueInfoProto: name=1, type=2 ; TypeProto.tensor_type=1 ; Tensor: elem_type=1, shape=2 ; dim=1: dim_value=1, dim_param=2
  w.string(1, v.name);
  w.message(2, (t) =>
    t.message(1, (tt) => {
      tt.int(1, v.type ?? ONNX_FLOAT);
      tt.message(2, (s) => {
        for (const d of v.dims) s.message(1, (dm) => (typeof d === 'number' ? dm.int(1, d) : dm.string(2, d)));
      });
    }),
  );
}

/** The TensorProto data type of an initializer's data. */
function tensorType(data: OnnxInitializer['data']): number {
  if (data instanceof Float32Array) return ONNX_FLOAT;
  if (data instanceof BigInt64Array) return ONNX_INT64;
  if (data instanceof Int8Array) return ONNX_INT8;
  if (data instanceof Uint8Array) return ONNX_UINT8;
  return ONNX_INT32;
}

function writeTensor(w: PbWriter, t: OnnxInitializer): void {
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian)
  w.packedInts(1, t.dims);
  w.int(2, tensorType(t.data));
  w.string(8, t.name);
  const bytes = new Uint8Array(t.data.byteLength);
  const dv = new DataView(bytes.buffer);
  const d = t.data;
  if (d instanceof Float32Array) d.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  else if (d instanceof BigInt64Array) d.forEach((v, i) => dv.setBigInt64(i * 8, v, true));
  else if (d instanceof Int32Array) d.forEach((v, i) => dv.setInt32(i * 4, v, true));
  else bytes.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  w.bytes(9, bytes);
}

/** Writes the fields of a GraphProto: nodes, the name (when given), initializers, inputs and outputs. */
function writeGraph(gw: PbWriter, g: OnnxGraph, name?: string): void {
  // GraphProto: node=1, name=2, initializer=5, input=11, output=12
  for (const n of g.nodes) {
    gw.message(1, (nw) => {
      // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5
      for (const i of n.inputs) nw.string(1, i);
      for (const out of n.outputs) nw.string(2, out);
      nw.string(3, n.name);
      nw.string(4, n.op);
      for (const [k, a] of Object.entries(n.attrs)) nw.message(5, (aw) => writeAttr(aw, k, a));
    });
  }
  if (name !== undefined) gw.string(2, name);
  for (const t of g.initializers) gw.message(5, (tw) => writeTensor(tw, t));
  for (const v of g.inputs) gw.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) gw.message(12, (vw) => writeValueInfo(vw, v));
}

/**
 * @internal ONNX ModelProto bytes with the nodes, initializers, inputs and outputs of `extra` added to their graph,
 * without decoding it. Protobuf merges a message field that occurs twice (repeated fields are concatenated), so the
 * model's bytes followed by a second `graph` field holding only `extra` parse as the one graph with both; its nodes
 * come after the model's, as topological order needs when `extra` reads the model's tensors.
 */
export function appendToOnnxGraph(model: Uint8Array, extra: OnnxGraph): Uint8Array {
  const w = new PbWriter();
  w.message(7, (gw) => writeGraph(gw, extra));
  const tail = w.finish();
  const out = new Uint8Array(model.length + tail.length);
  out.set(model);
  out.set(tail, model.length);
  return out;
}

/** @internal Serialises `g` as an ONNX ModelProto. */
export function encodeOnnxModel(g: OnnxGraph, o: { graphName: string; opset: number; producerVersion: string; metadata: Record<string, string>; docString?: string }): Uint8Array {
  const w = new PbWriter();
  // ModelProto: ir_version=1, producer_name=2, producer_version=3, doc_string=6, graph=7, opset_import=8, metadata_props=14
  w.int(1, 8);
  w.string(2, 'sharpen-kd');
  w.string(3, o.producerVersion);
  if (o.docString) w.string(6, o.docString);
  w.message(7, (gw) => writeGraph(gw, g, o.graphName));
  w.message(8, (ow) => {
    ow.string(1, '');
    ow.int(2, o.opset);
  });
  for (const [key, value] of Object.entries(o.metadata)) {
    w.message(14, (mw) => {
      mw.string(1, key);
      mw.string(2, value);
    });
  }
  return w.finish();
}
