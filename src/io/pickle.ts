/**
 * A restricted Python unpickler (protocols 0-5) for reading PyTorch checkpoints. It never runs code:
 * every global a pickle names goes through the caller's `findGlobal`, which returns a JS stand-in
 * from an allow-list or throws. Python values map to JS as: None → `null`, bool → boolean,
 * int → number (bigint past 2^53), float → number, str → string, bytes / bytearray → `Uint8Array`,
 * list and tuple → array, dict → `Map`, set / frozenset → `Set`.
 */
import { InputError } from '../errors';

/**
 * A Python global (class or function) that a pickle may reference, as a JS stand-in. `call` runs for
 * REDUCE / NEWOBJ / INST / OBJ; a global without `call` is a marker value (e.g. a storage class).
 */
export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  call?(args: unknown[]): unknown;
}

/** Hooks of {@link unpickle}. */
export interface UnpickleOptions {
  /** Resolves `module.name`; throws for anything not allowed. */
  findGlobal(module: string, name: string): PickleGlobal;
  /** Resolves a persistent id (PERSID / BINPERSID). Default: a persistent id is an error. */
  persistentLoad?(pid: unknown): unknown;
  /** Applies BUILD state to an object. Default: state on a dict (instance attributes) is dropped; other objects are an error. */
  build?(obj: unknown, state: unknown): unknown;
  /** Where the pickle starts in `bytes` (default 0). */
  offset?: number;
  /** Words for error messages (default "pickle data"). */
  what?: string;
}

/** Result of {@link unpickle}: the value and the byte just after its STOP opcode. */
export interface UnpickleResult {
  value: unknown;
  end: number;
}

const utf8 = new TextDecoder('utf-8');
/** Longest LONG1 / LONG4 integer read (checkpoints hold small integers; huge ones would only cost time). */
const MAX_LONG_BYTES = 1024;

/** Returns true if `v` is a {@link PickleGlobal} stand-in. */
export function isPickleGlobal(v: unknown): v is PickleGlobal {
  return typeof v === 'object' && v !== null && typeof (v as PickleGlobal).module === 'string' && typeof (v as PickleGlobal).name === 'string' && !(v instanceof Map) && !Array.isArray(v);
}

/** A copy of `bytes[start:end]` with its own buffer (`slice` of a Node Buffer would be a view). */
export function copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 8192) s += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 8192)));
  return s;
}

function utf8At(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode(...bytes.subarray(start, end));
  }
  return utf8.decode(bytes.subarray(start, end));
}

/** Little-endian two's-complement integer (LONG1 / LONG4 payload); a number when it is a safe integer. */
function decodeLong(bytes: Uint8Array, start: number, n: number): number | bigint {
  if (n === 0) return 0;
  if (n > MAX_LONG_BYTES) throw new InputError(`an integer of ${n} bytes in pickle data: corrupt or not a checkpoint`);
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + bytes[start + i];
    if (bytes[start + n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i]);
  if (bytes[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Protocol-0 decimal int / long text ("123", "-5", "12L", "01" / "00" for True / False). */
function decodeIntText(s: string, what: string, pos: number): number | bigint | boolean {
  if (s === '01') return true;
  if (s === '00') return false;
  const t = s.endsWith('L') ? s.slice(0, -1) : s;
  if (!/^[-+]?\d+$/.test(t)) throw new InputError(`${what} is corrupt: bad integer "${s}" at byte ${pos}`);
  const big = BigInt(t);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Python string-literal text of the STRING opcode (quoted, with backslash escapes), as latin-1. */
function decodeStringText(s: string, what: string, pos: number): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) throw new InputError(`${what} is corrupt: the STRING at byte ${pos} is not quoted`);
  return unescapePython(s.slice(1, -1));
}

/** Backslash escapes of Python literals and raw-unicode-escape (\\xNN, \\uNNNN, \\UNNNNNNNN, \\n, ...). */
function unescapePython(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)/gs, (_m, e: string) => {
    const c = e[0];
    if (c === 'x' || c === 'u' || c === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (c >= '0' && c <= '7') return String.fromCharCode(parseInt(e, 8));
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };
    return simple[c] ?? `\\${e}`;
  });
}

/** raw-unicode-escape (UNICODE opcode): only \\uXXXX and \\UXXXXXXXX are escapes. */
function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) => String.fromCodePoint(parseInt((a ?? b)!, 16)));
}

function defaultBuild(obj: unknown, state: unknown, what: string): unknown {
  if (obj instanceof Map) return obj; // instance attributes of a dict subclass (e.g. a state dict's _metadata)
  throw new InputError(`${what} sets state on an unsupported object (${describe(obj)}): only tensors, storages and dicts can be read`);
}

/** Short description of a Python-side value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (isPickleGlobal(v)) return `${v.module}.${v.name}`;
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return 'list/tuple';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Set) return 'set';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

/**
 * Runs one pickle from `bytes` (starting at `options.offset`) up to its STOP opcode.
 * Throws {@link InputError} for truncated or malformed data; `findGlobal` decides which globals exist.
 *
 * @example
 * ```ts
 * const { value } = unpickle(bytes, { findGlobal: (m, n) => { throw new Error(`${m}.${n} not allowed`); } });
 * ```
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  const what = options.what ?? 'pickle data';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let pos = options.offset ?? 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const truncated = (): never => {
    throw new InputError(`${what} is truncated (it ends at byte ${len} inside a pickle): the file is incomplete; download or save it again`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > len) truncated();
    const p = pos;
    pos += n;
    return p;
  };
  const corrupt = (why: string): never => {
    throw new InputError(`${what} is corrupt (${why}): not a valid pickle; download or save the file again`);
  };
  const readLine = (): string => {
    const start = pos;
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) truncated();
    pos = nl + 1;
    return latin1(bytes, start, nl);
  };
  const pop = (): unknown => {
    if (stack.length === 0) corrupt(`stack underflow at byte ${pos - 1}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) corrupt(`stack underflow at byte ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) corrupt(`no MARK before byte ${pos - 1}`);
    stack = prev!;
    return items;
  };
  const getMemo = (i: number): unknown => {
    if (!memo.has(i)) corrupt(`memo key ${i} is not defined`);
    return memo.get(i);
  };
  const call = (fn: unknown, args: unknown, opname: string): unknown => {
    if (!isPickleGlobal(fn) || !fn.call) corrupt(`${opname} on ${describe(fn)}, which is not callable`);
    if (!Array.isArray(args)) corrupt(`${opname} arguments are not a tuple`);
    return (fn as PickleGlobal).call!(args as unknown[]);
  };
  const asString = (v: unknown, opname: string): string => {
    if (typeof v !== 'string') corrupt(`${opname} expects strings, got ${describe(v)}`);
    return v as string;
  };
  const setItems = (d: unknown, items: unknown[]) => {
    if (!(d instanceof Map)) corrupt(`SETITEM(S) on ${describe(d)}, not a dict`);
    if (items.length % 2 !== 0) corrupt('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) corrupt(`APPEND(S) on ${describe(l)}, not a list`);
    for (const it of items) (l as unknown[]).push(it);
  };
  const persistent = (pid: unknown): unknown => {
    if (!options.persistentLoad) corrupt('a persistent id appears where none is expected');
    return options.persistentLoad!(pid);
  };

  for (;;) {
    if (pos >= len) truncated();
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (bytes[pos - 1] > 5) corrupt(`unsupported pickle protocol ${bytes[pos - 1]}`);
        break;
      case 0x95: // FRAME: framing is transparent when all bytes are in memory
        need(8);
        break;
      case 0x2e: {
        // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) popMark();
        else stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // --- constants and numbers
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true));
        break;
      case 0x8a: {
        // LONG1
        const n = bytes[need(1)];
        stack.push(decodeLong(bytes, need(n), n));
        break;
      }
      case 0x8b: {
        // LONG4
        const n = view.getInt32(need(4), true);
        if (n < 0) corrupt('negative LONG4 length');
        stack.push(decodeLong(bytes, need(n), n));
        break;
      }
      case 0x49: // INT (text)
      case 0x4c: {
        // LONG (text)
        const at = pos - 1;
        stack.push(decodeIntText(readLine(), what, at));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x46: {
        // FLOAT (text)
        const t = readLine().trim().toLowerCase();
        const special: Record<string, number> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, nan: NaN, '-nan': NaN };
        const v = Object.hasOwn(special, t) ? special[t] : t === '' ? NaN : Number(t);
        if (Number.isNaN(v) && !t.endsWith('nan')) corrupt(`bad float "${t}"`);
        stack.push(v);
        break;
      }
      // --- strings and bytes
      case 0x58: {
        // BINUNICODE
        const n = view.getUint32(need(4), true);
        const s = need(n);
        stack.push(utf8At(bytes, s, s + n));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const n = bytes[need(1)];
        const s = need(n);
        stack.push(utf8At(bytes, s, s + n));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        const n = Number(view.getBigUint64(need(8), true));
        const s = need(n);
        stack.push(utf8At(bytes, s, s + n));
        break;
      }
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(decodeRawUnicodeEscape(readLine()));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str, read as latin-1)
        const n = view.getInt32(need(4), true);
        if (n < 0) corrupt('negative BINSTRING length');
        const s = need(n);
        stack.push(latin1(bytes, s, s + n));
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        const n = bytes[need(1)];
        const s = need(n);
        stack.push(latin1(bytes, s, s + n));
        break;
      }
      case 0x53: {
        // STRING (quoted text)
        const at = pos - 1;
        stack.push(decodeStringText(readLine(), what, at));
        break;
      }
      case 0x42: {
        // BINBYTES
        const n = view.getUint32(need(4), true);
        const s = need(n);
        stack.push(copy(bytes, s, s + n));
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = bytes[need(1)];
        const s = need(n);
        stack.push(copy(bytes, s, s + n));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: {
        // BYTEARRAY8
        const n = Number(view.getBigUint64(need(8), true));
        const s = need(n);
        stack.push(copy(bytes, s, s + n));
        break;
      }
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        corrupt('out-of-band buffers (pickle protocol 5 buffer_callback) are not supported');
        break;
      // --- containers
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x74: {
        // TUPLE
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) corrupt(`ADDITEMS on ${describe(s)}, not a set`);
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      // --- memo
      case 0x70: {
        // PUT (text)
        const line = readLine();
        if (!/^\d+$/.test(line)) corrupt(`bad PUT index "${line}"`);
        memo.set(Number(line), top());
        break;
      }
      case 0x71: // BINPUT
        memo.set(bytes[need(1)], top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: {
        // GET (text)
        const line = readLine();
        if (!/^\d+$/.test(line)) corrupt(`bad GET index "${line}"`);
        stack.push(getMemo(Number(line)));
        break;
      }
      case 0x68: // BINGET
        stack.push(getMemo(bytes[need(1)]));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(getMemo(view.getUint32(need(4), true)));
        break;
      // --- globals and objects (all through the allow-list)
      case 0x63: {
        // GLOBAL
        const module = readLine();
        const name = readLine();
        stack.push(options.findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = asString(pop(), 'STACK_GLOBAL');
        const module = asString(pop(), 'STACK_GLOBAL');
        stack.push(options.findGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) corrupt('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(call(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case 0x69: {
        // INST
        const module = readLine();
        const name = readLine();
        const cls = options.findGlobal(module, name);
        const args = popMark();
        stack.push(call(cls, args, 'INST'));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark();
        if (items.length === 0) corrupt('OBJ without a class');
        stack.push(call(items[0], items.slice(1), 'OBJ'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        const built = options.build ? options.build(obj, state) : defaultBuild(obj, state, what);
        stack[stack.length - 1] = built;
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        corrupt('copyreg extension codes are not supported');
        break;
      // --- persistent ids (how torch refers to tensor storages)
      case 0x50: // PERSID (text)
        stack.push(persistent(readLine()));
        break;
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      default:
        corrupt(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}`);
    }
  }
}
