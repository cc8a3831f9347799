/**
 * Reading PyTorch weights without PyTorch: `.pth` / `.pt` checkpoints (the zip format torch.save writes
 * since 1.6 and the legacy pickle format before it) and `.safetensors` files, in Node and browsers.
 * Nothing in a checkpoint is executed: its pickle is read by a restricted unpickler that only knows
 * tensors, storages and plain containers.
 */
import { InputError, ModelError } from '../errors';
import { copy, describe, isPickleGlobal, unpickle, type PickleGlobal } from './pickle';

/**
 * One tensor of a PyTorch state dict, as float32 in row-major (C) order.
 *
 * @example
 * ```ts
 * const w: TorchTensor = weights.get('head.weight')!; // OIHW for a Conv2d
 * const [outC, inC, kh, kw] = w.shape;
 * ```
 */
export interface TorchTensor {
  readonly dtype: 'float32';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * A PyTorch state dict: parameter name → tensor, in the order of the checkpoint (a `.pth` state dict's
 * insertion order, a `.safetensors` header's order).
 *
 * @example
 * ```ts
 * for (const [name, t] of weights) console.log(name, t.shape.join('x'));
 * ```
 */
export type TorchWeights = Map<string, TorchTensor>;

type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const ELEMENT_SIZE: Record<DType, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

/** torch storage classes (`torch.FloatStorage`, ...) → dtype. */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** Element sizes of storage classes that cannot be read, so that a legacy file's later storages can still be found. */
const UNSUPPORTED_STORAGE_SIZES: Record<string, number> = {
  ComplexHalfStorage: 4,
  ComplexFloatStorage: 8,
  ComplexDoubleStorage: 16,
  QInt8Storage: 1,
  QUInt8Storage: 1,
  QInt32Storage: 4,
  QUInt4x2Storage: 1,
  QUInt2x4Storage: 1,
};

/** `torch.<dtype>` globals that may appear as values (inert markers). */
const TORCH_DTYPE_NAMES = new Set([
  'float32', 'float', 'float16', 'half', 'bfloat16', 'float64', 'double', 'int64', 'long', 'int32', 'int', 'int16',
  'short', 'int8', 'uint8', 'bool', 'complex64', 'cfloat', 'complex128', 'cdouble',
]);

/** safetensors dtype names → dtype. */
const SAFETENSORS_DTYPES: Record<string, DType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

/** When several entries of a checkpoint hold a state dict, the first of these names wins. */
const PREFERRED_KEYS = ['params_ema', 'params', 'state_dict', 'model_state_dict', 'model', 'net_g', 'generator', 'net'];

const SAVE_HINT = 'save only the weights in Python: torch.save(model.state_dict(), "weights.pth")';

/** A storage class or dtype named by the pickle. */
class StorageClass implements PickleGlobal {
  readonly module = 'torch';
  constructor(
    readonly name: string,
    readonly dtype: DType | undefined,
    readonly elementSize: number | undefined,
  ) {}
}

/** A storage the pickle refers to by persistent id: its record key and dtype. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly cls: StorageClass,
    /** Elements into the root storage (legacy storage views). */
    readonly elementOffset: number,
  ) {}
}

/** A tensor as the pickle describes it: a strided view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

const pyGlobal = (module: string, name: string, call?: (args: unknown[]) => unknown): PickleGlobal => ({ module, name, call });

function corrupt(why: string): never {
  throw new InputError(`corrupt PyTorch checkpoint (${why}); download or save the file again`);
}

function isIndexList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);
}

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) corrupt(`a tensor is built from ${describe(storage)}, not a storage`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) corrupt(`bad storage offset ${String(offset)}`);
  if (!isIndexList(size) || !isIndexList(stride) || size.length !== stride.length) corrupt('bad tensor size or stride');
  return new TensorRef(storage, offset as number, size.slice(), stride.slice());
}

function latin1Bytes(s: unknown): Uint8Array {
  if (typeof s !== 'string') return new Uint8Array(0);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

const BUILTINS: Record<string, (args: unknown[]) => unknown> = {
  set: (a) => new Set(Array.isArray(a[0]) ? a[0] : []),
  frozenset: (a) => new Set(Array.isArray(a[0]) ? a[0] : []),
  bytes: (a) => (a.length === 0 ? new Uint8Array(0) : Array.isArray(a[0]) ? Uint8Array.from(a[0] as number[]) : latin1Bytes(a[0])),
  bytearray: (a) => (a.length === 0 ? new Uint8Array(0) : Array.isArray(a[0]) ? Uint8Array.from(a[0] as number[]) : latin1Bytes(a[0])),
};

/** @internal The allow-list: every global a checkpoint may name. Anything else is refused before it could run. */
export function findGlobal(module: string, name: string): PickleGlobal {
  if (module === 'collections' && name === 'OrderedDict') {
    return pyGlobal(module, name, (args) => {
      const d = new Map<unknown, unknown>();
      if (Array.isArray(args[0])) for (const kv of args[0]) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
      return d;
    });
  }
  if (module === 'torch._utils') {
    if (name === '_rebuild_tensor_v2' || name === '_rebuild_tensor') return pyGlobal(module, name, rebuildTensor);
    if (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state') return pyGlobal(module, name, (args) => args[0]);
  }
  if (module === 'torch._tensor' && name === '_rebuild_from_type_v2') {
    // (func, new_type, args, state): a tensor subclass (e.g. Parameter) around func(*args)
    return pyGlobal(module, name, (args) => {
      const [fn, , fnArgs] = args;
      if (!isPickleGlobal(fn) || !fn.call || !Array.isArray(fnArgs)) corrupt('bad _rebuild_from_type_v2 arguments');
      return (fn as PickleGlobal).call!(fnArgs as unknown[]);
    });
  }
  if (module === 'torch') {
    if (Object.hasOwn(STORAGE_DTYPES, name)) return new StorageClass(name, STORAGE_DTYPES[name], ELEMENT_SIZE[STORAGE_DTYPES[name]]);
    if (/^[A-Za-z0-9]+Storage$/.test(name)) return new StorageClass(name, undefined, Object.hasOwn(UNSUPPORTED_STORAGE_SIZES, name) ? UNSUPPORTED_STORAGE_SIZES[name] : undefined);
    if (TORCH_DTYPE_NAMES.has(name) || name === 'Tensor') return pyGlobal(module, name);
    if (name === 'Size') return pyGlobal(module, name, (args) => (Array.isArray(args[0]) ? args[0].slice() : []));
  }
  if (module === 'torch.nn.parameter' && name === 'Parameter') return pyGlobal(module, name);
  if ((module === 'builtins' || module === '__builtin__') && Object.hasOwn(BUILTINS, name)) return pyGlobal(module, name, BUILTINS[name]);
  if (module === '_codecs' && name === 'encode') return pyGlobal(module, name, (args) => latin1Bytes(args[0]));
  throw new ModelError(
    `the checkpoint refers to the Python global "${module}.${name}", which is not on the allow-list of tensors, storages and ` +
      `plain containers (nothing in a checkpoint is executed). If it holds more than weights (a whole module, an optimizer, ` +
      `training arguments), ${SAVE_HINT}`,
  );
}

/** persistent_load of torch.load: ('storage', storage_class, key, location, numel[, view_metadata]). */
function makePersistentLoad(storages: Map<string, StorageRef>) {
  return (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid.length < 5) corrupt(`unexpected persistent id ${describe(pid)}`);
    const [kind, cls, key] = pid as unknown[];
    if (kind !== 'storage') {
      throw new ModelError(`the checkpoint stores a "${String(kind)}" object (e.g. a whole pickled module), not only tensors; ${SAVE_HINT}`);
    }
    if (!(cls instanceof StorageClass)) corrupt(`a storage of type ${describe(cls)}`);
    if (typeof key !== 'string') corrupt('a storage key that is not a string');
    let ref = storages.get(key as string);
    if (!ref) {
      ref = new StorageRef(key as string, cls as StorageClass, 0);
      storages.set(key as string, ref);
    }
    const view = (pid as unknown[])[5];
    if (Array.isArray(view)) {
      // legacy storage view: (view_key, offset, size) into the root storage
      const [viewKey, offset] = view;
      if (typeof viewKey !== 'string' || !Number.isSafeInteger(offset)) corrupt('bad storage view');
      let v = storages.get(viewKey as string);
      if (!v) {
        v = new StorageRef(key as string, cls as StorageClass, offset as number);
        storages.set(viewKey as string, v);
      }
      return v;
    }
    return ref;
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Tensor data: dtype conversion and strides

let halfTable: Float32Array | undefined;

function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    t[h] = e === 0 ? sign * f * 2 ** -24 : e === 31 ? (f ? NaN : sign * Infinity) : sign * (1 + f / 1024) * 2 ** (e - 15);
  }
  halfTable = t;
  return t;
}

/** Largest tensor read (2^30 float32 values, 4 GiB). */
const MAX_ELEMENTS = 2 ** 30;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= b.length; i += size) {
    for (let j = 0, k = size - 1; j < k; j++, k--) {
      const t = b[i + j];
      b[i + j] = b[i + k];
      b[i + k] = t;
    }
  }
}

/** Storage elements (a fresh, aligned copy) as float32 (float dtypes) or float64 (integer dtypes: exact, or NaN for an int64 float32 cannot hold). */
function decodeElements(raw: Uint8Array, dtype: DType): Float32Array | Float64Array {
  const buf = raw.buffer as ArrayBuffer;
  const n = raw.length / ELEMENT_SIZE[dtype];
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, 0, n);
    case 'float64':
      return new Float32Array(new Float64Array(buf, 0, n));
    case 'float16': {
      const h = new Uint16Array(buf, 0, n);
      const table = halfToFloatTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[h[i]];
      return out;
    }
    case 'bfloat16': {
      const h = new Uint16Array(buf, 0, n);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'int64': {
      const w = new Int32Array(buf, 0, 2 * n);
      const out = new Float64Array(n);
      const lo = HOST_LITTLE_ENDIAN ? 0 : 1;
      for (let i = 0; i < n; i++) {
        const hi = w[2 * i + 1 - lo];
        const low = w[2 * i + lo];
        // exact when |value| < 2^53 (hi in [-2^21, 2^21)); past that float32 can only hold it if the low 30 bits are 0,
        // and then the sum is exact too. NaN marks the rest, which float32 cannot hold.
        out[i] = (hi >= -2097152 && hi < 2097152) || (low & 0x3fffffff) === 0 ? hi * 4294967296 + (low >>> 0) : NaN;
      }
      return out;
    }
    case 'int32':
      return new Float64Array(new Int32Array(buf, 0, n));
    case 'int16':
      return new Float64Array(new Int16Array(buf, 0, n));
    case 'int8':
      return new Float64Array(new Int8Array(buf, 0, n));
    case 'uint8':
    case 'bool':
      return new Float64Array(new Uint8Array(buf, 0, n));
  }
}

/** Row-major copy of a strided view (`src[0]` is the view's first element). */
function gather<T extends Float32Array | Float64Array>(src: T, out: T, size: number[], stride: number[]): void {
  const nd = size.length;
  if (out.length === 0) return;
  if (nd === 0) {
    out[0] = src[0];
    return;
  }
  const last = size[nd - 1];
  const ls = stride[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  const rows = out.length / last;
  let base = 0;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, s = base; j < last; j++, s += ls) out[o++] = src[s];
    for (let d = nd - 2; d >= 0; d--) {
      base += stride[d];
      if (++idx[d] < size[d]) break;
      base -= stride[d] * size[d];
      idx[d] = 0;
    }
  }
}

/**
 * A tensor's values as float32: `storage` holds the whole storage's bytes, `offset` / `size` / `stride` are in elements.
 * Returns undefined for an integer tensor with a value float32 cannot hold exactly.
 */
function materialise(name: string, dtype: DType, storage: Uint8Array, offset: number, size: number[], stride: number[], littleEndian: boolean): TorchTensor | undefined {
  const es = ELEMENT_SIZE[dtype];
  const numel = size.reduce((a, b) => a * b, 1);
  if (numel === 0) return { dtype: 'float32', shape: size, data: new Float32Array(0) };
  if (numel > MAX_ELEMENTS) throw new ModelError(`tensor "${name}" has ${numel} elements, more than one Float32Array can hold here (${MAX_ELEMENTS})`);
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if ((last + 1) * es > storage.length) {
    throw new InputError(`tensor "${name}" reads past the end of its storage (${(last + 1) * es} of ${storage.length} bytes): the checkpoint is truncated or corrupt; download or save it again`);
  }
  const raw = copy(storage, offset * es, (last + 1) * es);
  if (littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(raw, es);
  const flat = decodeElements(raw, dtype);
  let contiguous = true;
  for (let d = size.length - 1, expect = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d];
  }
  let values = flat;
  if (!contiguous) {
    values = flat instanceof Float32Array ? new Float32Array(numel) : new Float64Array(numel);
    gather(flat, values, size, stride);
  }
  if (values instanceof Float32Array) return { dtype: 'float32', shape: size, data: values };
  for (let i = 0; i < numel; i++) if (Math.fround(values[i]) !== values[i]) return undefined;
  return { dtype: 'float32', shape: size, data: new Float32Array(values) };
}

function unsupportedDtype(name: string, what: string): never {
  throw new ModelError(`tensor "${name}" has dtype ${what}, which cannot be read as float32 (supported: float32, float16, bfloat16, float64 and integer / bool tensors); convert it in Python, e.g. {k: v.float() for k, v in sd.items()}, and save again`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Containers: zip, legacy pickle stream, safetensors

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localOffset: number;
}

const ZIP_TRUNCATED = 'the zip archive has no complete central directory: the file is truncated; download or save it again';

/** The central directory of a zip archive (zip64 aware). */
function readZip(bytes: Uint8Array): Map<string, ZipEntry> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (v.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new InputError(ZIP_TRUNCATED);
  let count = v.getUint16(eocd + 10, true);
  let cdSize = v.getUint32(eocd + 12, true);
  let cdOffset = v.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || v.getUint32(loc, true) !== 0x07064b50) throw new InputError(ZIP_TRUNCATED);
    const z = Number(v.getBigUint64(loc + 8, true));
    if (z + 56 > bytes.length || v.getUint32(z, true) !== 0x06064b50) throw new InputError(ZIP_TRUNCATED);
    count = Number(v.getBigUint64(z + 32, true));
    cdSize = Number(v.getBigUint64(z + 40, true));
    cdOffset = Number(v.getBigUint64(z + 48, true));
  }
  if (cdOffset + cdSize > bytes.length) throw new InputError(ZIP_TRUNCATED);
  const cdEnd = cdOffset + cdSize;
  const names = new TextDecoder('utf-8');
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || v.getUint32(p, true) !== 0x02014b50) corrupt('bad zip central directory');
    const method = v.getUint16(p + 10, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localOffset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdEnd) corrupt('bad zip central directory');
    const name = names.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: the 0xffffffff fields, in the order size, compressed size, offset
    const extraEnd = p + 46 + nameLen + extraLen;
    for (let e = p + 46 + nameLen; e + 4 <= extraEnd; ) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 0x0001 && e + 4 + len <= extraEnd) {
        let q = e + 4;
        if (size === 0xffffffff && q + 8 <= e + 4 + len) {
          size = Number(v.getBigUint64(q, true));
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= e + 4 + len) {
          compressedSize = Number(v.getBigUint64(q, true));
          q += 8;
        }
        if (localOffset === 0xffffffff && q + 8 <= e + 4 + len) localOffset = Number(v.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The bytes of one zip record (a view into `bytes`). */
function zipRecord(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.localOffset + 30 > bytes.length || v.getUint32(e.localOffset, true) !== 0x04034b50) corrupt(`bad zip local header of ${e.name}`);
  const start = e.localOffset + 30 + v.getUint16(e.localOffset + 26, true) + v.getUint16(e.localOffset + 28, true);
  const end = start + e.compressedSize;
  if (end > bytes.length) throw new InputError(`zip record ${e.name} ends past the end of the file: the file is truncated; download or save it again`);
  if (e.method !== 0) {
    throw new InputError(`zip record ${e.name} is compressed (method ${e.method}); torch.save writes uncompressed archives: load and save the checkpoint again with torch.save, or repack it uncompressed (zip -0)`);
  }
  return bytes.subarray(start, end);
}

/** How a parsed checkpoint gives the bytes of a storage. */
type StorageBytes = (ref: StorageRef, tensorName: string) => Uint8Array;

interface Parsed {
  root: unknown;
  storageBytes: StorageBytes;
  littleEndian: boolean;
}

function parseZip(bytes: Uint8Array): Parsed {
  const entries = readZip(bytes);
  let prefix: string | undefined;
  for (const name of entries.keys()) {
    const m = /^([^/]*\/)?data\.pkl$/.exec(name);
    if (m) {
      prefix = m[1] ?? '';
      break;
    }
  }
  if (prefix === undefined) {
    const names = [...entries.keys()];
    if (names.some((n) => /(^|\/)constants\.pkl$/.test(n) || /(^|\/)code\//.test(n))) {
      throw new ModelError(`this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; load it in Python and ${SAVE_HINT}`);
    }
    throw new InputError('a zip archive without data.pkl: not a PyTorch checkpoint (expected a .pth / .pt written by torch.save, or a .safetensors file)');
  }
  const order = entries.get(`${prefix}byteorder`);
  const littleEndian = !order || new TextDecoder().decode(zipRecord(bytes, order)).trim() !== 'big';
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zipRecord(bytes, entries.get(`${prefix}data.pkl`)!), {
    findGlobal,
    persistentLoad: makePersistentLoad(storages),
    what: 'the checkpoint',
  });
  const storageBytes: StorageBytes = (ref, tensorName) => {
    const e = entries.get(`${prefix}data/${ref.key}`);
    if (!e) {
      throw new InputError(`the checkpoint has no storage record "${prefix}data/${ref.key}" for tensor "${tensorName}": the archive is incomplete or was repacked without it; save it again with torch.save`);
    }
    return zipRecord(bytes, e);
  };
  return { root: value, storageBytes, littleEndian };
}

/** 0x1950a86a20f9469cfc6c, the first pickle of a legacy torch.save file. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

function noGlobals(module: string, name: string): never {
  throw new InputError(`a pickle naming "${module}.${name}" where a PyTorch checkpoint header belongs: not a PyTorch checkpoint`);
}

/** Legacy (pre-1.6) torch.save: magic, protocol, sys info and main pickles, the storage keys, then each storage's data. */
function parseLegacy(bytes: Uint8Array): Parsed | undefined {
  let magic;
  try {
    magic = unpickle(bytes, { findGlobal: noGlobals, what: 'the checkpoint' });
  } catch (e) {
    if (e instanceof InputError) return undefined;
    throw e;
  }
  if (magic.value !== LEGACY_MAGIC) return undefined;
  const protocol = unpickle(bytes, { findGlobal: noGlobals, offset: magic.end, what: 'the checkpoint' });
  if (protocol.value !== LEGACY_PROTOCOL) throw new InputError(`unsupported legacy PyTorch checkpoint version ${String(protocol.value)} (expected ${LEGACY_PROTOCOL}); load it in Python and save it again`);
  const sysInfo = unpickle(bytes, { findGlobal: noGlobals, offset: protocol.end, what: 'the checkpoint' });
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, { findGlobal, persistentLoad: makePersistentLoad(storages), offset: sysInfo.end, what: 'the checkpoint' });
  const keys = unpickle(bytes, { findGlobal: noGlobals, offset: main.end, what: 'the checkpoint' });
  if (!Array.isArray(keys.value)) corrupt('the storage key list is missing');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = new Map<string, Uint8Array>();
  let p = keys.end;
  for (const key of keys.value as unknown[]) {
    const ref = storages.get(String(key));
    if (!ref) corrupt(`storage ${String(key)} is listed but never used`);
    const es = ref!.cls.elementSize;
    if (es === undefined) unsupportedDtype(`(storage ${String(key)})`, `torch.${ref!.cls.name}`);
    if (p + 8 > bytes.length) throw new InputError(`the checkpoint is truncated (storage ${String(key)} is missing): download or save it again`);
    const numel = Number(v.getBigInt64(p, true));
    p += 8;
    if (numel < 0 || p + numel * es! > bytes.length) throw new InputError(`the checkpoint is truncated (storage ${String(key)} needs ${numel * es!} bytes, ${bytes.length - p} are left): download or save it again`);
    records.set(String(key), bytes.subarray(p, p + numel * es!));
    p += numel * es!;
  }
  const storageBytes: StorageBytes = (ref, tensorName) => {
    const rec = records.get(ref.key);
    if (!rec) throw new InputError(`the checkpoint has no data for storage ${ref.key} of tensor "${tensorName}": the file is incomplete; save it again with torch.save`);
    const start = ref.elementOffset * (ref.cls.elementSize ?? 1);
    return rec.subarray(Math.min(start, rec.length));
  };
  return { root: main.value, storageBytes, littleEndian: true };
}

/** Header length of a safetensors file, or undefined if `bytes` does not look like one. */
function safetensorsHeaderLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 10 || bytes[8] !== 0x7b /* { */) return undefined;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  return n >= 2n && n < 1n << 32n ? Number(n) : undefined;
}

function loadSafetensors(bytes: Uint8Array, headerLength: number): TorchWeights {
  if (8 + headerLength > bytes.length) throw new InputError(`the safetensors header needs ${headerLength} bytes, only ${bytes.length - 8} are there: the file is truncated; download or save it again`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`the safetensors header is not valid JSON (${(e as Error).message}): the file is corrupt; download or save it again`, { cause: e });
  }
  const data = bytes.subarray(8 + headerLength);
  const out: TorchWeights = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !isIndexList(shape) || !isIndexList(offsets) || offsets.length !== 2 || offsets[1] < offsets[0]) {
      throw new InputError(`the safetensors entry "${name}" has no valid dtype, shape and data_offsets: the file is corrupt`);
    }
    const dt = Object.hasOwn(SAFETENSORS_DTYPES, dtype) ? SAFETENSORS_DTYPES[dtype] : undefined;
    if (!dt) unsupportedDtype(name, dtype);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (offsets[1] - offsets[0] !== numel * ELEMENT_SIZE[dt]) throw new InputError(`the safetensors entry "${name}" has ${offsets[1] - offsets[0]} bytes for shape [${shape.join(', ')}] of ${dtype}: the file is corrupt`);
    if (offsets[1] > data.length) throw new InputError(`the safetensors entry "${name}" ends past the end of the file: the file is truncated; download or save it again`);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const t = materialise(name, dt, data.subarray(offsets[0], offsets[1]), 0, shape, stride, true);
    if (t) out.set(name, t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// State dict

function hasTensor(d: unknown): d is Map<unknown, unknown> {
  if (!(d instanceof Map)) return false;
  for (const v of d.values()) if (v instanceof TensorRef) return true;
  return false;
}

function keyList(d: Map<unknown, unknown>): string {
  const keys = [...d.keys()].map((k) => JSON.stringify(k) ?? String(k));
  return keys.length > 12 ? `${keys.slice(0, 12).join(', ')}, ... (${keys.length} in all)` : keys.join(', ');
}

function findStateDict(root: unknown, key: string | undefined): Map<unknown, unknown> {
  if (key !== undefined) {
    if (!(root instanceof Map)) throw new ModelError(`option key "${key}" needs a checkpoint that is a dict; this one holds a ${describe(root)}`);
    if (!root.has(key)) throw new ModelError(`the checkpoint has no entry "${key}"; its top-level keys are ${keyList(root) || '(none)'}`);
    const d = root.get(key);
    if (!hasTensor(d)) throw new ModelError(`the checkpoint's entry "${key}" is a ${describe(d)} without tensors, not a state dict; its top-level keys are ${keyList(root)}`);
    return d;
  }
  if (hasTensor(root)) return root;
  if (root instanceof Map) {
    const candidates = [...root].filter(([, v]) => hasTensor(v));
    if (candidates.length === 1) return candidates[0][1] as Map<unknown, unknown>;
    for (const k of PREFERRED_KEYS) if (candidates.some(([ck]) => ck === k)) return root.get(k) as Map<unknown, unknown>;
    if (candidates.length > 1) {
      throw new ModelError(`the checkpoint holds several state dicts (${candidates.map(([k]) => JSON.stringify(k)).join(', ')}): pass { key } to choose one`);
    }
    throw new ModelError(`no state dict found: the checkpoint is a dict with keys ${keyList(root) || '(none)'}, none of them holding tensors; pass { key } naming the weights, or ${SAVE_HINT}`);
  }
  throw new ModelError(`no state dict found: the checkpoint holds a ${describe(root)}, not a dict of tensors; ${SAVE_HINT}`);
}

/**
 * Reads the weights of a PyTorch checkpoint, without PyTorch and without running any of its code.
 *
 * Formats (detected from the bytes): the zip format `torch.save` writes (PyTorch ≥ 1.6), the legacy pickle format
 * (`_use_new_zipfile_serialization=False` and PyTorch < 1.6), and `.safetensors`. Pickles of protocol 0-5 are read
 * by a restricted unpickler that only knows tensors, storages, `collections.OrderedDict` and plain containers;
 * any other Python global (a pickled module class, `os.system`, numpy scalars, ...) is refused with a
 * {@link ModelError} naming it.
 *
 * The state dict: with `key`, the checkpoint's top-level entry of that name (e.g. `'params'`, `'params_ema'`,
 * `'state_dict'`). Without it, the checkpoint itself when it maps names to tensors, else its one entry that does;
 * when several do, the first of `params_ema`, `params`, `state_dict`, `model_state_dict`, `model`, `net_g`,
 * `generator`, `net` (else a {@link ModelError} asks for `key`). `key` does not apply to safetensors files, which are
 * one flat state dict. Entries that are not tensors are left out.
 *
 * Values: float16, bfloat16 and float64 become float32 (rounded to nearest); non-contiguous tensors and views
 * into shared storages come out as plain row-major copies. Integer and bool tensors (e.g. BatchNorm's
 * `num_batches_tracked`) become float32 when float32 holds every value exactly, and are left out otherwise.
 * Complex and quantized tensors are a {@link ModelError}.
 *
 * Errors: {@link InputError} when the bytes are not a checkpoint, truncated or corrupt (including a missing
 * storage record or a compressed zip record); {@link ModelError} when the checkpoint is readable but does not
 * hold loadable weights (a global that is not allowed, an unsupported dtype, no state dict, no entry `key`).
 *
 * @param bytes - the whole file.
 * @param options - `key`: the top-level entry that holds the state dict (default: found automatically).
 * @returns parameter name → float32 tensor, in the checkpoint's order.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { loadTorchWeights } from 'sharpen-kd';
 *
 * const weights = loadTorchWeights(await readFile('EMT_LSR_x4.pth'), { key: 'params' });
 * const head = weights.get('head.weight')!; // { dtype: 'float32', shape: [60, 3, 3, 3], data: Float32Array }
 * // in a browser: loadTorchWeights(new Uint8Array(await (await fetch(url)).arrayBuffer()))
 * ```
 */
export function loadTorchWeights(bytes: Uint8Array, options: { key?: string } = {}): TorchWeights {
  if (!(bytes instanceof Uint8Array)) throw new InputError(`loadTorchWeights needs the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  const key = options.key;
  if (key !== undefined && typeof key !== 'string') throw new InputError(`option key must be a string, got ${describe(key)}`);
  const notCheckpoint = `not a PyTorch checkpoint (expected a .pth / .pt file written by torch.save, or a .safetensors file)`;
  if (bytes.length === 0) throw new InputError(`the file is empty: ${notCheckpoint}`);

  const stLength = safetensorsHeaderLength(bytes);
  if (stLength !== undefined) return loadSafetensors(bytes, stLength);

  let parsed: Parsed | undefined;
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) {
    parsed = parseZip(bytes);
  } else if (bytes[0] === 0x80) {
    parsed = parseLegacy(bytes);
    if (!parsed) throw new InputError(`no PyTorch header: ${notCheckpoint}`);
  } else if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new InputError('a tar archive: the tar format of PyTorch < 0.4 is not supported; load it in Python and save it again with torch.save');
  } else {
    throw new InputError(notCheckpoint);
  }

  const dict = findStateDict(parsed.root, key);
  const out: TorchWeights = new Map();
  for (const [k, v] of dict) {
    if (!(v instanceof TensorRef)) continue;
    const name = String(k);
    const cls = v.storage.cls;
    if (!cls.dtype) unsupportedDtype(name, `torch.${cls.name}`);
    const t = materialise(name, cls.dtype, parsed.storageBytes(v.storage, name), v.offset, v.size, v.stride, parsed.littleEndian);
    if (t) out.set(name, t);
  }
  return out;
}
