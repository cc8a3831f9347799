/**
 * Teacher-output cache: the teacher runs once over a fixed set of N patches; its predictions are stored on disk
 * (float16) with the LR/HR patches (uint8 when they are exact 8-bit levels, float16 otherwise) and a JSON index.
 * Distillation then samples batches from this set, so each step costs only the student.
 *
 * For unlabeled data (`PatchOptions.unlabeled`) the teacher's predictions are stored as the HR targets too.
 *
 * With `taps`, the teacher's features at those layers (feature distillation) are stored too, float16, one file per tap
 * (`features-<i>.bin`, N × h × w × C, NHWC): one pass of the teacher per patch gives both its prediction and its
 * features. At ×4 with EMT's three 60-channel taps and 32² LR patches that is 60·32²·2 bytes = 120 KiB per patch and
 * tap, about 1 GiB per tap for 8192 patches, which `loadTeacherCache` holds in memory as float16 bits.
 *
 * With `patchSize` smaller than the data's patches, the teacher sees each whole patch and the cache keeps its centre:
 * the LR, HR and prediction (and features) cropped by `(data.patchSize − patchSize) / 2` LR pixels on every side. So
 * the stored predictions are made with context around them, as the teacher makes them inside a whole image, instead
 * of next to a patch border (EMT ×4 on 32² LR patches scores 0.2 dB under itself on whole images; with 8 pixels of
 * context the difference is 0.02 dB).
 *
 * Files in `dir`: `lr.bin`, `hr.bin`, `teacher.bin`, the feature files, and `index.json` (removed before a rebuild
 * replaces the files and written last: an interrupted build leaves no index and is rebuilt). The index's `key`
 * identifies the teacher, the data stream, N and the taps; a mismatch rebuilds, except that a cache with features
 * also serves a request for the same predictions without features.
 */
import * as tf from '@tensorflow/tfjs-core';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../core/task';
import { ConfigError, InputError, ShapeError } from '../errors';
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
  /** The teacher's tap features, when the cache was built with `taps` (in tap order). */
  features?: TeacherCacheFeature[];
  description: string;
  created: string;
}

/**
 * One stored feature tap of a teacher cache (an entry of {@link TeacherCacheIndex.features}).
 *
 * @example
 * ```ts
 * const f: TeacherCacheFeature = { tap: 'body.1', file: 'features-0.bin', shape: [8192, 32, 32, 60], dtype: 'f16' };
 * ```
 */
export interface TeacherCacheFeature {
  /** Layer name of the tap. */
  tap: string;
  /** File in the cache folder. */
  file: string;
  /** NHWC shape `[N, h, w, C]` of the stored features. */
  shape: [number, number, number, number];
  dtype: 'f16';
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
  /**
   * Also store the teacher's features at these layers (feature taps, e.g. `featureTaps(teacher)`; a layers-model
   * teacher only). Default: none.
   */
  taps?: string[];
  /**
   * Side of the stored LR patches (default: the data's patch size). Smaller than the data's, it must differ from it
   * by an even number: the teacher runs on the data's whole patches and the cache keeps their centres (context for
   * the teacher's predictions near the stored patch's border).
   */
  patchSize?: number;
}

/** The centre `side`×`side` of `n` NHWC patches of `from`×`from` with `channels` channels. */
function cropCentre<T extends Float32Array | Uint16Array>(a: T, n: number, from: number, side: number, channels: number): T {
  if (side === from) return a;
  const off = (from - side) / 2;
  const out = new (a.constructor as new (len: number) => T)(n * side * side * channels);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < side; y++) {
      const src = ((i * from + y + off) * from + off) * channels;
      out.set(a.subarray(src, src + side * channels), ((i * side + y) * side) * channels);
    }
  }
  return out;
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
  const taps = opts.taps;
  const full = data.patchSize;
  const p = opts.patchSize ?? full;
  if (!(Number.isInteger(p) && p >= 1 && p <= full && (full - p) % 2 === 0)) {
    throw new ConfigError(`the cache's patch size must be at most the data's (${full}) and differ from it by an even number (the context on each side), got ${opts.patchSize}`);
  }
  if (taps !== undefined && ensemble > 1) throw new ConfigError('a teacher cache with features cannot use a self-ensemble: the ensemble averages predictions, features have no such average');
  const id = (await teacherIdentity(teacher, opts.teacherId)) + (ensemble > 1 ? ` ensemble=${ensemble}` : '');
  const { createHash } = await import('node:crypto');
  // The taps join the key only when features are stored, so that the key of an output-only cache stays as it was.
  const keyParts: unknown[] = [id, data.description, data.state().seed, count];
  if (taps !== undefined) keyParts.push({ taps });
  if (p !== full) keyParts.push({ centre: p });
  const hash = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
  const key = hash(keyParts);
  const existing = await readIndex(opts.dir);
  if (existing && existing.key === key) return existing;
  // A cache with features serves a request for predictions alone: the same teacher, data and count, plus features
  // the request does not need (rebuilding would throw them away).
  if (existing && taps === undefined && existing.features?.length && existing.key === hash([...keyParts, { taps: existing.features.map((f) => f.tap) }])) return existing;

  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const runner = await prepareTeacher(teacher, opts.runtime ?? 'auto', taps !== undefined ? { taps } : {});
  const saved = data.state();
  data.restore({ seed: saved.seed, batch: 0 });
  const P = p * data.scale;
  const fullP = full * data.scale;
  const lr = new Float32Array(count * p * p * 3);
  const hr = new Float32Array(count * P * P * 3);
  const te = new Uint16Array(count * P * P * 3);
  // Features are encoded batch by batch (float32 copies of them all would be twice the size); sized on the first batch.
  let feats: { shape: [number, number, number]; bits: Uint16Array }[] | undefined;
  try {
    for (let b = 0; b < batches; b++) {
      throwIfAborted(opts.signal);
      const a = await data.nextArrays();
      const n = a.count;
      lr.set(cropCentre(a.lr, n, full, p, 3), b * n * p * p * 3);
      const x = tf.tensor4d(a.lr, [n, full, full, 3]);
      let y: tf.Tensor4D;
      let features: tf.Tensor4D[] = [];
      try {
        if (taps !== undefined) ({ output: y, features } = await runner.runWithFeatures(x));
        else y = await selfEnsemble((t) => runner.run(t), x, ensemble);
      } finally {
        x.dispose();
      }
      try {
        if (y.shape[1] !== fullP || y.shape[2] !== fullP) {
          throw new ConfigError(`teacher output is ${y.shape[1]}x${y.shape[2]} for ${full}x${full} patches; expected ${fullP}x${fullP} (is the teacher's scale ${data.scale}?)`);
        }
        const predicted = cropCentre(tf.tidy(() => tf.clipByValue(y, 0, 1).dataSync()) as Float32Array, n, fullP, P, 3);
        const at = b * n * P * P * 3;
        te.set(encodeFloat16(predicted), at);
        // Unlabeled inputs have no HR: the teacher's prediction is their target.
        hr.set(a.unlabeled ? predicted : cropCentre(a.hr, n, fullP, P, 3), at);
        for (let i = 0; i < features.length; i++) {
          const f = features[i];
          // A feature map covers the patch at its own resolution: crop the same fraction of it.
          const [fh, fw, fc] = [f.shape[1], f.shape[2], f.shape[3]];
          const side = (fh * p) / full;
          if (p !== full && (fh !== fw || !Number.isInteger(side) || (fh - side) % 2 !== 0)) {
            throw new ShapeError(`teacher feature "${taps?.[i]}" is ${fh}x${fw} for ${full}x${full} patches: its centre for ${p}x${p} patches is not a whole number of its pixels`);
          }
          feats ??= [];
          const sideW = p === full ? fw : side;
          feats[i] ??= { shape: [side, sideW, fc], bits: new Uint16Array(count * side * sideW * fc) };
          const want = feats[i].shape;
          if (side !== want[0] || sideW !== want[1] || fc !== want[2]) {
            throw new ShapeError(`teacher feature "${taps?.[i]}" is [${f.shape.slice(1).join(', ')}] in batch ${b}, unlike the first; the patches must all be ${full}x${full}`);
          }
          const cropped = cropCentre((await f.data()) as Float32Array, n, fh, side, fc);
          feats[i].bits.set(encodeFloat16(cropped), b * n * side * sideW * fc);
        }
      } finally {
        tf.dispose([y, ...features]);
      }
      const info: Record<string, string> = { runtime: runner.runtime };
      if (b === 0 && runner.fallbackReason) info.onnx = `not used: ${runner.fallbackReason}`;
      opts.onProgress?.({ stage: 'teacher-cache', done: (b + 1) * data.batchSize, total: count, info });
      await yieldToEventLoop();
    }
  } finally {
    data.restore(saved);
    await runner.dispose();
  }
  // A stale index must not describe the files while they are replaced.
  await fs.rm(path.join(opts.dir, 'index.json'), { force: true });
  const dtypes = { lr: isExact8(lr) ? 'u8' : 'f16', hr: isExact8(hr) ? 'u8' : 'f16', teacher: 'f16' } as const;
  await writeFileAtomic(path.join(opts.dir, 'lr.bin'), pack(lr, dtypes.lr));
  await writeFileAtomic(path.join(opts.dir, 'hr.bin'), pack(hr, dtypes.hr));
  await writeFileAtomic(path.join(opts.dir, 'teacher.bin'), bytesOf(te));
  const features: TeacherCacheFeature[] = [];
  for (const [i, f] of (feats ?? []).entries()) {
    const file = `features-${i}.bin`;
    await writeFileAtomic(path.join(opts.dir, file), bytesOf(f.bits));
    features.push({ tap: taps![i], file, shape: [count, ...f.shape], dtype: 'f16' });
  }
  await removeStaleFeatureFiles(opts.dir, features.length);
  const index: TeacherCacheIndex = {
    version: 1,
    key,
    count,
    scale: data.scale,
    lrSize: p,
    hrSize: P,
    dtypes,
    ...(taps !== undefined ? { features } : {}),
    description: `${data.description} teacher=${id}${taps !== undefined ? ` taps=${taps.join(',')}` : ''}${p !== full ? ` centre=${p}` : ''}`,
    created: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(opts.dir, 'index.json'), JSON.stringify(index, null, 2));
  return index;
}

/** The bytes of a Uint16Array (no copy). */
function bytesOf(a: Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Deletes `features-<i>.bin` files with `i >= kept`, left by an earlier build with more taps. */
async function removeStaleFeatureFiles(dir: string, kept: number): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  for (const name of await fs.readdir(dir)) {
    const m = /^features-(\d+)\.bin$/.exec(name);
    if (m && Number(m[1]) >= kept) await fs.rm(path.join(dir, name), { force: true });
  }
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
  /** float16 bits of each tap's features (`index.features` order), when the cache has them and they were loaded. */
  features?: Uint16Array[];
}

/**
 * Options of {@link loadTeacherCache}.
 *
 * @example
 * ```ts
 * const opts: LoadTeacherCacheOptions = { features: false }; // skip the (large) feature files
 * ```
 */
export interface LoadTeacherCacheOptions {
  /** Load the teacher's features when the cache has them (default true). */
  features?: boolean;
}

/**
 * Reads a cache built by {@link ensureTeacherCache} into memory.
 *
 * @example
 * ```ts
 * const cache = await loadTeacherCache('runs/x2/cache');
 * ```
 */
export async function loadTeacherCache(dir: string, opts: LoadTeacherCacheOptions = {}): Promise<LoadedTeacherCache> {
  const path = await import('node:path');
  const index = await readIndex(dir);
  if (!index || index.version !== 1) throw new InputError('no teacher cache here (index.json missing or unreadable); build it with distill --cache-dir', { file: dir });
  const read = async (name: string, dtype: CacheDtype, n: number) => {
    const bytes = await readExactly(path.join(dir, name), dtype === 'u8' ? n : 2 * n);
    return dtype === 'u8' ? bytes : new Uint16Array(bytes.buffer);
  };
  const nl = index.count * index.lrSize ** 2 * 3;
  const nh = index.count * index.hrSize ** 2 * 3;
  const cache: LoadedTeacherCache = {
    index,
    lr: await read('lr.bin', index.dtypes.lr, nl),
    hr: await read('hr.bin', index.dtypes.hr, nh),
    teacher: (await read('teacher.bin', 'f16', nh)) as Uint16Array,
  };
  if (index.features && opts.features !== false) {
    cache.features = [];
    for (const f of index.features) {
      if (f.dtype !== 'f16' || f.shape.length !== 4 || f.shape[0] !== index.count || !/^features-\d+\.bin$/.test(f.file)) {
        throw new InputError(`teacher cache index lists a feature file it cannot describe (${JSON.stringify(f)}); delete the folder to rebuild it`, { file: path.join(dir, 'index.json') });
      }
      cache.features.push((await read(f.file, 'f16', f.shape.reduce((a, b) => a * b, 1))) as Uint16Array);
    }
  }
  return cache;
}

/**
 * The bytes of `file`, which must be exactly `bytes` long, in a fresh buffer of their own (read in chunks: feature
 * files can pass the 2 GiB limit of a single read).
 */
async function readExactly(file: string, bytes: number): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  const fh = await fs.open(file, 'r').catch((e) => {
    throw new InputError(`teacher cache file missing (${(e as Error).message}); delete the folder to rebuild it`, { file, cause: e });
  });
  try {
    const { size } = await fh.stat();
    if (size !== bytes) throw new InputError(`teacher cache file has ${size} bytes, expected ${bytes}; delete the folder to rebuild it`, { file });
    const out = new Uint8Array(bytes);
    for (let off = 0; off < bytes; ) {
      const { bytesRead } = await fh.read(out, off, Math.min(1 << 26, bytes - off), off);
      if (bytesRead === 0) throw new InputError(`teacher cache file ended after ${off} of ${bytes} bytes; delete the folder to rebuild it`, { file });
      off += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}
