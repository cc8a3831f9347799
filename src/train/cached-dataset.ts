/**
 * A {@link PatchDataset} over a teacher cache: batches of random cached patches with their teacher predictions,
 * flipped/rotated together, and, when the cache holds them, the teacher's tap features. Everything is precomputed, so
 * a batch costs only a few array copies (and a float16 decode of its features).
 *
 * Features are never flipped or rotated: a network's features are not equivariant, so the flipped features of a patch
 * are not the features of the flipped patch (for EMT ×4 on a T91 patch, the features of a flipped or transposed patch
 * differed from the flipped features by 40–200 % of their energy, the predictions by under 0.01 %). Batches that
 * carry features therefore come unaugmented by default.
 */
import { Rng } from '../core/rng';
import { ConfigError } from '../errors';
import { arraysToBatch } from '../data/patch-dataset';
import { dihedral } from '../data/pixels';
import type { DatasetState, PatchArrays, PatchBatch, PatchDataset, Scale } from '../data/types';
import { decodeFloat16 } from './float16';
import { loadTeacherCache } from './teacher-cache';

/**
 * Options of {@link openTeacherCache}.
 *
 * @example
 * ```ts
 * const o: CachedDatasetOptions = { batchSize: 16, seed: 1, augment: true };
 * ```
 */
export interface CachedDatasetOptions {
  batchSize?: number;
  seed?: number;
  /**
   * Random flips/rotations applied alike to LR, HR and teacher patches (default true, but false when the batches carry
   * features: see the file comment; asking for both is a ConfigError).
   */
  augment?: boolean;
  /**
   * Carry the teacher's tap features (`teacherFeatures`): default true when the cache has them; true on a cache without
   * features is a ConfigError; false does not load them.
   */
  features?: boolean;
}

function batchSeed(seed: number, batch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x27d4eb2f, 0x165667b1) ^ Math.imul(batch + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Opens a teacher cache (see `ensureTeacherCache`) as an endless seeded stream of `{ lr, hr, teacher }` batches, plus
 * `teacherFeatures` when the cache holds the teacher's features (see `features`; such batches are not augmented).
 *
 * @example
 * ```ts
 * const data = await openTeacherCache('runs/x2/cache', { batchSize: 16, seed: 1 });
 * const { lr, hr, teacher } = (await data[Symbol.asyncIterator]().next()).value;
 * ```
 */
export async function openTeacherCache(dir: string, opts: CachedDatasetOptions = {}): Promise<PatchDataset> {
  const batchSize = opts.batchSize ?? 16;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  const cache = await loadTeacherCache(dir, { features: opts.features !== false });
  const { index } = cache;
  const seed = (opts.seed ?? 0) >>> 0;
  const features = cache.features && index.features ? index.features.map((f, i) => ({ shape: f.shape.slice(1) as [number, number, number], bits: cache.features![i] })) : undefined;
  if (opts.features === true && !features) throw new ConfigError(`the teacher cache in ${dir} has no features: build it with taps (ensureTeacherCache taps, distill with a feature weight > 0)`);
  if (features && opts.augment === true) {
    throw new ConfigError("a teacher cache's features cannot be flipped or rotated with their patches (a network's features are not equivariant): open it with augment: false, or features: false");
  }
  const augment = opts.augment ?? !features;
  const p = index.lrSize;
  const P = index.hrSize;
  const nl = p * p * 3;
  const nh = P * P * 3;
  const toFloat = (src: Uint8Array | Uint16Array, start: number, n: number): Float32Array => {
    if (src instanceof Uint16Array) return decodeFloat16(src.subarray(start, start + n));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = src[start + i] / 255;
    return out;
  };
  let batch = 0;

  const make = (b: number): PatchArrays => {
    const rng = new Rng(batchSeed(seed, b));
    const lr = new Float32Array(batchSize * nl);
    const hr = new Float32Array(batchSize * nh);
    const teacher = new Float32Array(batchSize * nh);
    const picked: number[] = [];
    for (let i = 0; i < batchSize; i++) {
      const k = rng.int(index.count);
      picked.push(k);
      const t = augment ? rng.int(8) : 0;
      const l = toFloat(cache.lr, k * nl, nl);
      const h = toFloat(cache.hr, k * nh, nh);
      const te = decodeFloat16(cache.teacher.subarray(k * nh, (k + 1) * nh));
      lr.set(t ? dihedral(l, p, t) : l, i * nl);
      hr.set(t ? dihedral(h, P, t) : h, i * nh);
      teacher.set(t ? dihedral(te, P, t) : te, i * nh);
    }
    if (!features) return { count: batchSize, lrSize: p, hrSize: P, lr, hr, teacher };
    // The same patches' features, as stored (never augmented: see the file comment).
    const teacherFeatures = features.map((f) => {
      const n = f.shape[0] * f.shape[1] * f.shape[2];
      const data = new Float32Array(batchSize * n);
      picked.forEach((k, i) => decodeFloat16(f.bits.subarray(k * n, (k + 1) * n), data.subarray(i * n, (i + 1) * n)));
      return { shape: f.shape, data };
    });
    return { count: batchSize, lrSize: p, hrSize: P, lr, hr, teacher, teacherFeatures };
  };

  const ds: PatchDataset = {
    scale: index.scale as Scale,
    patchSize: p,
    batchSize,
    description: `teacher-cache:${index.key} n=${index.count} aug=${augment}${features ? ` features=${features.length}` : ''}`,
    nextArrays: async () => make(batch++),
    state: () => ({ seed, batch }),
    restore(s: DatasetState) {
      if (s.seed >>> 0 !== seed) throw new ConfigError(`cannot restore a stream of seed ${s.seed} into one of seed ${seed}; use the same --seed`);
      batch = s.batch;
    },
    dispose() {},
    async *[Symbol.asyncIterator](): AsyncIterator<PatchBatch> {
      for (;;) yield arraysToBatch(make(batch++));
    },
  };
  return ds;
}
