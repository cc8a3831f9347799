/**
 * A minimal protobuf writer for the few ONNX messages the exporter needs (onnx.proto3 field numbers).
 * Only encoding: varints, length-delimited bytes/strings/sub-messages, packed int64, 32-bit floats.
 */

/** @internal Growable byte sink with protobuf wire-format helpers. */
export class PbWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned or negative (two's complement, 10 bytes) varint. */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: PbWriter) => void): void {
    const w = new PbWriter();
    build(w);
    this.bytes(field, w.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): void {
    const w = new PbWriter();
    for (const v of values) w.varint(v);
    this.bytes(field, w.finish());
  }

  packedFloats(field: number, values: readonly number[]): void {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    this.bytes(field, b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * @internal The top-level fields of one protobuf message, in order: varints as numbers, length-delimited fields as
 * views of `bytes` (fixed 32/64-bit fields too). Sub-messages are not decoded, so reading the metadata of an ONNX
 * model skips its graph in one step.
 *
 * @throws Error on a truncated message or an unknown wire type.
 */
export function readFields(bytes: Uint8Array): { field: number; value: number | Uint8Array }[] {
  const out: { field: number; value: number | Uint8Array }[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= bytes.length) throw new Error('truncated protobuf varint');
      const b = bytes[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  const take = (n: number): Uint8Array => {
    if (i + n > bytes.length) throw new Error('truncated protobuf field');
    const v = bytes.subarray(i, i + n);
    i += n;
    return v;
  };
  while (i < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    switch (key & 7) {
      case 0:
        out.push({ field, value: varint() });
        break;
      case 1:
        out.push({ field, value: take(8) });
        break;
      case 2:
        out.push({ field, value: take(varint()) });
        break;
      case 5:
        out.push({ field, value: take(4) });
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${key & 7}`);
    }
  }
  return out;
}

/** @internal The `metadata_props` (field 14) of ONNX ModelProto bytes, key → value. */
export function readOnnxMetadata(model: Uint8Array): Record<string, string> {
  const td = new TextDecoder();
  const props: Record<string, string> = {};
  for (const f of readFields(model)) {
    if (f.field !== 14 || typeof f.value === 'number') continue;
    let key = '';
    let value = '';
    for (const e of readFields(f.value)) {
      if (typeof e.value === 'number') continue;
      if (e.field === 1) key = td.decode(e.value);
      else if (e.field === 2) value = td.decode(e.value);
    }
    props[key] = value;
  }
  return props;
}

/**
 * @internal The nodes of ONNX ModelProto bytes (graph field 7, node field 1), in order: op type and domain (`''` for
 * the default domain). Used to check what a runtime's optimizer made of a graph (ONNX Runtime's
 * `optimizedModelFilePath`), e.g. that a QDQ graph was fused into integer kernels.
 */
export function readOnnxNodes(model: Uint8Array): { op: string; domain: string; name: string }[] {
  const td = new TextDecoder();
  const nodes: { op: string; domain: string; name: string }[] = [];
  for (const f of readFields(model)) {
    if (f.field !== 7 || typeof f.value === 'number') continue;
    for (const n of readFields(f.value)) {
      if (n.field !== 1 || typeof n.value === 'number') continue;
      // NodeProto: name=3, op_type=4, domain=7
      let op = '';
      let domain = '';
      let name = '';
      for (const e of readFields(n.value)) {
        if (typeof e.value === 'number') continue;
        if (e.field === 4) op = td.decode(e.value);
        else if (e.field === 7) domain = td.decode(e.value);
        else if (e.field === 3) name = td.decode(e.value);
      }
      nodes.push({ op, domain, name });
    }
  }
  return nodes;
}

/** @internal The names of the graph outputs of ONNX ModelProto bytes (graph field 7, output field 12), in order. */
export function readOnnxOutputs(model: Uint8Array): string[] {
  const td = new TextDecoder();
  const names: string[] = [];
  for (const f of readFields(model)) {
    if (f.field !== 7 || typeof f.value === 'number') continue;
    for (const o of readFields(f.value)) {
      if (o.field !== 12 || typeof o.value === 'number') continue;
      // ValueInfoProto: name=1
      const name = readFields(o.value).find((e) => e.field === 1);
      if (name && typeof name.value !== 'number') names.push(td.decode(name.value));
    }
  }
  return names;
}
