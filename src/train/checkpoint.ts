/**
 * Training checkpoints: one self-contained binary file, written atomically (temp file + rename), so a crash never
 * leaves a half-written checkpoint and never clobbers the previous one.
 *
 * Layout: `SKDCKPT1` (8 bytes) · header length (uint32 LE) · header JSON (UTF-8) · zero padding to 4 bytes ·
 * float32 LE tensor data. The header holds `step`, free-form `meta` (config, RNG and data state, best score, ...) and
 * the tensor index (name, shape, offset).
 */
import { InputError, IoError } from '../errors';
import { writeFileAtomic } from '../io/atomic-write';

const MAGIC = 'SKDCKPT1';

/**
 * A named float32 tensor of a checkpoint.
 *
 * @example
 * ```ts
 * const t: CheckpointTensor = { name: 'model/0/kernel', shape: [3, 3, 3, 8], data: new Float32Array(216) };
 * ```
 */
export interface CheckpointTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * A training checkpoint in memory.
 *
 * @example
 * ```ts
 * const ckpt: Checkpoint = { step: 100, meta: { seed: 1 }, tensors: [{ name: 'w', shape: [2], data: new Float32Array(2) }] };
 * ```
 */
export interface Checkpoint {
  step: number;
  meta: Record<string, unknown>;
  tensors: CheckpointTensor[];
}

/**
 * Serialises a checkpoint to bytes.
 *
 * @example
 * ```ts
 * const bytes = encodeCheckpoint(ckpt);
 * ```
 */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  let offset = 0;
  const index = c.tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new InputError(`checkpoint tensor ${t.name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const e = { name: t.name, shape: t.shape, offset };
    offset += n;
    return e;
  });
  const header = new TextEncoder().encode(JSON.stringify({ version: 1, step: c.step, meta: c.meta, tensors: index }));
  const start = Math.ceil((12 + header.length) / 4) * 4;
  const out = new Uint8Array(start + offset * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  const f = new Float32Array(out.buffer, start, offset);
  for (let i = 0; i < c.tensors.length; i++) f.set(c.tensors[i].data, index[i].offset);
  return out;
}

/**
 * Parses {@link encodeCheckpoint} bytes. `file` only names the source in errors.
 *
 * @example
 * ```ts
 * const ckpt = decodeCheckpoint(bytes);
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, file = '<buffer>'): Checkpoint {
  const bad = (why: string) => new InputError(`not a valid sharpen-kd checkpoint (${why}); pass the last.ckpt or best.ckpt a training run wrote`, { file });
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(8, true);
  if (12 + hlen > bytes.length) throw bad('truncated header');
  let header: { step: number; meta: Record<string, unknown>; tensors: { name: string; shape: number[]; offset: number }[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    throw bad('corrupt header');
  }
  const start = Math.ceil((12 + hlen) / 4) * 4;
  const total = (bytes.length - start) / 4;
  // Copy into an aligned buffer (the file buffer's offset may not be a multiple of 4).
  const all = new Float32Array(Math.max(0, Math.floor(total)));
  new Uint8Array(all.buffer).set(bytes.subarray(start, start + all.length * 4));
  const tensors = header.tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset + n > all.length) throw bad(`tensor ${t.name} is truncated`);
    return { name: t.name, shape: t.shape, data: all.slice(t.offset, t.offset + n) };
  });
  return { step: header.step, meta: header.meta ?? {}, tensors };
}

/**
 * Writes a checkpoint file atomically.
 *
 * @example
 * ```ts
 * await saveCheckpoint('runs/x2/last.ckpt', ckpt);
 * ```
 */
export async function saveCheckpoint(file: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(c));
}

/**
 * Reads a checkpoint file.
 *
 * @example
 * ```ts
 * const { step, meta, tensors } = await loadCheckpoint('runs/x2/last.ckpt');
 * ```
 */
export async function loadCheckpoint(file: string): Promise<Checkpoint> {
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('checkpoint not found; check --resume (a run folder or a .ckpt file)', { file, cause: e });
    throw new IoError(`cannot read checkpoint ${file}: ${(e as Error).message}`, { cause: e });
  }
  return decodeCheckpoint(bytes, file);
}
