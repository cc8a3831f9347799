/**
 * A {@link PatchDataset} over a teacher cache: batches of random cached patches with their teacher predictions,
 * flipped/rotated together. Everything is precomputed, so a batch costs only a few array copies.
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
  /** Random flips/rotations applied alike to LR, HR and teacher patches (default true). */
  augment?: boolean;
}

function batchSeed(seed: number, batch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x27d4eb2f, 0x165667b1) ^ Math.imul(batch + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Opens a teacher cache (see `ensureTeacherCache`) as an endless seeded stream of `{ lr, hr, teacher }` batches.
 *
 * @example
 * ```ts
 * const data = await openTeacherCache('runs/x2/cache', { batchSize: 16, seed: 1 });
 * const { lr, hr, teacher } = (await data[Symbol.asyncIterator]().next()).value;
 * ```
 */
export async function openTeacherCache(dir: string, opts: CachedDatasetOptions = {}): Promise<PatchDataset> {
  const cache = await loadTeacherCache(dir);
  const { index } = cache;
  const batchSize = opts.batchSize ?? 16;
  const seed = (opts.seed ?? 0) >>> 0;
  const augment = opts.augment ?? true;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
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
    for (let i = 0; i < batchSize; i++) {
      const k = rng.int(index.count);
      const t = augment ? rng.int(8) : 0;
      const l = toFloat(cache.lr, k * nl, nl);
      const h = toFloat(cache.hr, k * nh, nh);
      const te = decodeFloat16(cache.teacher.subarray(k * nh, (k + 1) * nh));
      lr.set(t ? dihedral(l, p, t) : l, i * nl);
      hr.set(t ? dihedral(h, P, t) : h, i * nh);
      teacher.set(t ? dihedral(te, P, t) : te, i * nh);
    }
    return { count: batchSize, lrSize: p, hrSize: P, lr, hr, teacher };
  };

  const ds: PatchDataset = {
    scale: index.scale as Scale,
    patchSize: p,
    batchSize,
    description: `teacher-cache:${index.key} n=${index.count} aug=${augment}`,
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
