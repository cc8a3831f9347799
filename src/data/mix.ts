/**
 * Mixing patch streams: labelled training data with inputs that have no HR, which a teacher labels.
 *
 * A student distilled from a strong teacher can learn from more inputs than there are HR images: the teacher's
 * predictions are targets for any image (your own photos, frames, or the training images at another scale). The mixed
 * stream takes its batches from its parts in turn, so batch `b` is batch `⌊b / n⌋` of part `b mod n`, and every part
 * stays the exact stream it would be alone: the labelled batches of a mixed stream are those of the labelled stream by
 * itself, and a run that adds extra inputs to another run's recipe sees the same labelled patches.
 */
import { ConfigError } from '../errors';
import type { DatasetState, PatchArrays, PatchBatch, PatchDataset } from './types';
import { arraysToBatch } from './patch-dataset';

/**
 * Interleaves patch streams batch by batch: batch `b` comes from part `b mod n`. The parts must agree on scale, patch
 * size and batch size. The mixed stream is `unlabeled` when any part is (a teacher must label those batches: `distill`
 * then needs a teacher cache), and its state and seed are those of the first part; `restore` moves every part.
 *
 * @example
 * ```ts
 * const labelled = await imageFolderDataset('../shared/data/T91/HR', { scale: 4, patchSize: 32, seed: 1 });
 * const extra = await imageFolderDataset('my-photos/', { scale: 4, patchSize: 32, seed: 1, unlabeled: true });
 * const data = mixDatasets([labelled, extra]); // half the batches are teacher-labelled photos
 * await distill({ student, teacher, data, cacheDir: 'runs/mixed/cache', steps: 8000 });
 * ```
 */
export function mixDatasets(parts: readonly PatchDataset[]): PatchDataset {
  if (parts.length === 0) throw new ConfigError('mixDatasets needs at least one dataset');
  const [first] = parts;
  for (const d of parts) {
    if (d.scale !== first.scale || d.patchSize !== first.patchSize || d.batchSize !== first.batchSize) {
      throw new ConfigError(
        `mixed datasets must share scale, patch size and batch size: "${first.description}" is x${first.scale} p=${first.patchSize} batch ${first.batchSize}, "${d.description}" is x${d.scale} p=${d.patchSize} batch ${d.batchSize}`,
      );
    }
  }
  if (parts.length === 1) return first;
  const n = parts.length;
  let batch = first.state().batch * n;

  function restore(s: DatasetState): void {
    // Part i has given ⌈(b - i) / n⌉ of the first b batches.
    parts.forEach((d, i) => d.restore({ seed: i === 0 ? s.seed : d.state().seed, batch: Math.max(0, Math.ceil((s.batch - i) / n)) }));
    batch = s.batch;
  }

  const ds: PatchDataset = {
    scale: first.scale,
    patchSize: first.patchSize,
    batchSize: first.batchSize,
    description: `mix(${parts.map((d) => d.description).join(' | ')})`,
    unlabeled: parts.some((d) => d.unlabeled === true),
    async nextArrays(): Promise<PatchArrays> {
      const b = batch++;
      return parts[b % n].nextArrays();
    },
    state: () => ({ seed: first.state().seed, batch }),
    restore,
    dispose() {
      for (const d of parts) d.dispose();
    },
    async *[Symbol.asyncIterator](): AsyncIterator<PatchBatch> {
      for (;;) yield arraysToBatch(await ds.nextArrays());
    },
  };
  // Bring the parts in line with where the first one stands.
  restore({ seed: first.state().seed, batch });
  return ds;
}
