/**
 * Teacher-output cache: the teacher runs once over a fixed set of N patches; its predictions are stored on disk
 * (float16) with the LR/HR patches (uint8 when they are exact 8-bit levels, float16 otherwise) and a JSON index.
 * Distillation then samples batches from this set, so each step costs only the student.
 *
 * For unlabeled data (`PatchOptions.unlabeled`) the teacher's predictions are stored as the HR targets too.
 *
 * Files in `dir`: `lr.bin`, `hr.bin`, `teacher.bin`, and `index.json` (written last: an interrupted build leaves no
 * index and is rebuilt). The index's `key` identifies the teacher, the data stream and N; a mismatch rebuilds.
 */
import * as tf from '@tensorflow/tfjs-core';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../core/task';
import { ConfigError, InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic-write';
import { encodeFloat16 } from './float16';
import { checkEnsembleSize, selfEnsemble, type EnsembleSize } from './self-ensemble';
import { prepareTeacher, teacherIdentity, type Teacher, type TeacherRuntime } from './teacher';
import type { PatchDataset } from '../data/types';

/**
 * Storage type of a cached array.
 *
 * @example
 * ```ts
 * const index = await ensureTeacherCache(teacher, data, { dir: 'runs/cache', count: 512 });
 * const dtype: CacheDtype = index.dtypes.teacher; // 'f16'
 * ```
 */
export type CacheDtype = 'u8' | 'f16';

/**
 * The `index.json` of a teacher cache.
 *
 * @example
 * ```ts
 * const idx: TeacherCacheIndex = JSON.parse(await fs.readFile('cache/index.json', 'utf8'));
 * ```
 */
export interface TeacherCacheIndex {
  version: 1;
  key: string;
  count: number;
  scale: number;
  lrSize: number;
  hrSize: number;
  dtypes: { lr: CacheDtype; hr: CacheDtype; teacher: 'f16' };
  description: string;
  created: string;
}

/**
 * Options of {@link ensureTeacherCache}.
 *
 * @example
 * ```ts
 * const opts: TeacherCacheOptions = { dir: 'runs/x2/cache', count: 4096 };
 * ```
 */
export interface TeacherCacheOptions extends TaskOptions {
  /** Folder of the cache. */
  dir: string;
  /** Patches to cache (rounded up to whole batches of the data). */
  count: number;
  /** Identity of a function teacher (layers models are identified by a hash of their weights). */
  teacherId?: string;
  /** Engine for a layers-model teacher (default `'auto'`: ONNX Runtime when installed, else TF.js). */
  runtime?: TeacherRuntime;
  /** Geometric self-ensemble of the teacher's predictions (default 1 = off; 8 = all flips/transposes, 8x the cost). */
  ensemble?: EnsembleSize;
}

function isExact8(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i] * 255;
    if (Math.abs(v - Math.round(v)) > 1e-3 || v < -1e-3 || v > 255.001) return false;
  }
  return true;
}

function pack(a: Float32Array, dtype: CacheDtype): Uint8Array {
  if (dtype === 'u8') {
    const out = new Uint8Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = Math.round(a[i] * 255);
    return out;
  }
  const h = encodeFloat16(a);
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

async function readIndex(dir: string): Promise<TeacherCacheIndex | undefined> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')) as TeacherCacheIndex;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `dir` holds the teacher's predictions for the first `count` patches of `data` (from the start of its
 * stream; the stream position is restored afterwards), building the cache when it is missing or stale.
 * Returns the index. Reports progress as stage `'teacher-cache'`.
 *
 * @example
 * ```ts
 * const index = await ensureTeacherCache(teacher, data, { dir: 'runs/x2/cache', count: 2048, onProgress: console.log });
 * const cached = await openTeacherCache('runs/x2/cache', { batchSize: 16, seed: 1 });
 * ```
 */
export async function ensureTeacherCache(teacher: Teacher, data: PatchDataset, opts: TeacherCacheOptions): Promise<TeacherCacheIndex> {
  if (!(Number.isInteger(opts.count) && opts.count >= 1)) throw new ConfigError(`cache size must be a positive integer (patches), got ${opts.count}`);
  const batches = Math.ceil(opts.count / data.batchSize);
  const count = batches * data.batchSize;
  const ensemble = checkEnsembleSize(opts.ensemble ?? 1);
  const id = (await teacherIdentity(teacher, opts.teacherId)) + (ensemble > 1 ? ` ensemble=${ensemble}` : '');
  const { createHash } = await import('node:crypto');
  const key = createHash('sha256').update(JSON.stringify([id, data.description, data.state().seed, count])).digest('hex').slice(0, 32);
  const existing = await readIndex(opts.dir);
  if (existing && existing.key === key) return existing;

  const path = await import('node:path');
  const saved = data.state();
  data.restore({ seed: saved.seed, batch: 0 });
  const p = data.patchSize;
  const P = p * data.scale;
  const lr = new Float32Array(count * p * p * 3);
  const hr = new Float32Array(count * P * P * 3);
  const te = new Float32Array(count * P * P * 3);
  const runner = await prepareTeacher(teacher, opts.runtime ?? 'auto');
  try {
    for (let b = 0; b < batches; b++) {
      throwIfAborted(opts.signal);
      const a = await data.nextArrays();
      lr.set(a.lr, b * a.lr.length);
      const x = tf.tensor4d(a.lr, [a.count, p, p, 3]);
      const y = await selfEnsemble((t) => runner.run(t), x, ensemble);
      x.dispose();
      if (y.shape[1] !== P || y.shape[2] !== P) {
        y.dispose();
        throw new ConfigError(`teacher output is ${y.shape[1]}x${y.shape[2]} for ${p}x${p} patches; expected ${P}x${P} (is the teacher's scale ${data.scale}?)`);
      }
      const clipped = tf.tidy(() => tf.clipByValue(y, 0, 1));
      const predicted = (await clipped.data()) as Float32Array;
      te.set(predicted, b * a.hr.length);
      // Unlabeled inputs have no HR: the teacher's prediction is their target.
      hr.set(a.unlabeled ? predicted : a.hr, b * a.hr.length);
      tf.dispose([y, clipped]);
      const info: Record<string, string> = { runtime: runner.runtime };
      if (b === 0 && runner.fallbackReason) info.onnx = `not used: ${runner.fallbackReason}`;
      opts.onProgress?.({ stage: 'teacher-cache', done: (b + 1) * data.batchSize, total: count, info });
      await yieldToEventLoop();
    }
  } finally {
    data.restore(saved);
    await runner.dispose();
  }
  const dtypes = { lr: isExact8(lr) ? 'u8' : 'f16', hr: isExact8(hr) ? 'u8' : 'f16', teacher: 'f16' } as const;
  await writeFileAtomic(path.join(opts.dir, 'lr.bin'), pack(lr, dtypes.lr));
  await writeFileAtomic(path.join(opts.dir, 'hr.bin'), pack(hr, dtypes.hr));
  await writeFileAtomic(path.join(opts.dir, 'teacher.bin'), pack(te, 'f16'));
  const index: TeacherCacheIndex = {
    version: 1,
    key,
    count,
    scale: data.scale,
    lrSize: p,
    hrSize: P,
    dtypes,
    description: `${data.description} teacher=${id}`,
    created: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(opts.dir, 'index.json'), JSON.stringify(index, null, 2));
  return index;
}

/**
 * A loaded cache: raw arrays as stored.
 *
 * @example
 * ```ts
 * const { index, teacher } = await loadTeacherCache('runs/x2/cache');
 * ```
 */
export interface LoadedTeacherCache {
  index: TeacherCacheIndex;
  lr: Uint8Array | Uint16Array;
  hr: Uint8Array | Uint16Array;
  teacher: Uint16Array;
}

/**
 * Reads a cache built by {@link ensureTeacherCache} into memory.
 *
 * @example
 * ```ts
 * const cache = await loadTeacherCache('runs/x2/cache');
 * ```
 */
export async function loadTeacherCache(dir: string): Promise<LoadedTeacherCache> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const index = await readIndex(dir);
  if (!index || index.version !== 1) throw new InputError('no teacher cache here (index.json missing or unreadable); build it with distill --cache-dir', { file: dir });
  const read = async (name: string, dtype: CacheDtype, n: number) => {
    const buf = await fs.readFile(path.join(dir, name)).catch((e) => {
      throw new InputError(`teacher cache file missing (${(e as Error).message}); delete the folder to rebuild it`, { file: path.join(dir, name), cause: e });
    });
    const bytes = dtype === 'u8' ? n : 2 * n;
    if (buf.length !== bytes) throw new InputError(`teacher cache file has ${buf.length} bytes, expected ${bytes}; delete the folder to rebuild it`, { file: path.join(dir, name) });
    const copy = new Uint8Array(bytes);
    copy.set(buf);
    return dtype === 'u8' ? copy : new Uint16Array(copy.buffer);
  };
  const nl = index.count * index.lrSize ** 2 * 3;
  const nh = index.count * index.hrSize ** 2 * 3;
  return {
    index,
    lr: await read('lr.bin', index.dtypes.lr, nl),
    hr: await read('hr.bin', index.dtypes.hr, nh),
    teacher: (await read('teacher.bin', 'f16', nh)) as Uint16Array,
  };
}
