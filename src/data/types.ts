import type * as tf from '@tensorflow/tfjs-core';

import type { Scale } from '../models/metadata';

export type { Scale };

/**
 * One training batch: low-resolution inputs and high-resolution targets, NHWC float32 RGB in [0, 1].
 * `lr` is `[N, p, p, 3]`, `hr` is `[N, p·s, p·s, 3]`. Datasets that come from a teacher cache also carry the
 * teacher's prediction for `lr` in `teacher` (same shape as `hr`) and, when the cache holds them, the teacher's tap
 * features for `lr` in `teacherFeatures` (`[N, h, w, C]` each, in tap order). The consumer disposes every tensor.
 *
 * @example
 * ```ts
 * for await (const { lr, hr } of data) { ...; tf.dispose([lr, hr]); }
 * ```
 */
export interface PatchBatch {
  lr: tf.Tensor4D;
  hr: tf.Tensor4D;
  teacher?: tf.Tensor4D;
  teacherFeatures?: tf.Tensor4D[];
}

/**
 * A batch as plain arrays (no tensors): interleaved NHWC float32 in [0, 1].
 *
 * @example
 * ```ts
 * const a = await data.nextArrays();
 * console.log(a.count, a.lrSize, a.hrSize, a.lr.length === a.count * a.lrSize ** 2 * 3);
 * ```
 */
export interface PatchArrays {
  /** Patches in this batch. */
  count: number;
  /** Side of an LR patch. */
  lrSize: number;
  /** Side of an HR patch (`lrSize · scale`). */
  hrSize: number;
  lr: Float32Array;
  /** HR patches (zeros when `unlabeled`). */
  hr: Float32Array;
  /** Teacher predictions, when the dataset carries them. */
  teacher?: Float32Array;
  /** Teacher tap features, when the dataset carries them: per tap, `count × h × w × C` values of `shape` `[h, w, C]`. */
  teacherFeatures?: { shape: [number, number, number]; data: Float32Array }[];
  /** The patches have no HR (see `PatchOptions.unlabeled`): a teacher must label them. */
  unlabeled?: true;
}

/**
 * Serialisable position of a dataset stream. Every batch is drawn from a generator seeded by
 * `(seed, batch)`, so restoring `{ seed, batch }` continues the exact same stream.
 *
 * @example
 * ```ts
 * const saved = data.state();   // { seed: 1, batch: 120 }
 * data.restore(saved);
 * ```
 */
export interface DatasetState {
  seed: number;
  batch: number;
}

/**
 * An endless, seeded stream of random patch batches. Iterating it yields tensors (the caller disposes them);
 * {@link PatchDataset.nextArrays} gives the same stream as plain arrays. Call `dispose()` to free its caches.
 *
 * @example
 * ```ts
 * const data = imageFolderDataset('../shared/data/T91/HR', { scale: 2, patchSize: 32, batchSize: 16, seed: 1 });
 * const it = data[Symbol.asyncIterator]();
 * const { value } = await it.next();
 * tf.dispose([value.lr, value.hr]);
 * data.dispose();
 * ```
 */
export interface PatchDataset extends AsyncIterable<PatchBatch> {
  /** Upscaling factor between `lr` and `hr`. */
  readonly scale: Scale;
  /** Side of the LR patches. */
  readonly patchSize: number;
  /** Patches per batch. */
  readonly batchSize: number;
  /** Short description of the data and its settings, used as a cache key (teacher cache). */
  readonly description: string;
  /** The images are inputs without HR (see `PatchOptions.unlabeled`): a teacher labels them. */
  readonly unlabeled?: boolean;
  /**
   * The batches carry teacher predictions (`PatchArrays.teacher`) made by the stream itself, and this names their
   * source (`'wiener-oracle'`: see `PatchOptions.privileged`); `train` then accepts an output term.
   */
  readonly teacher?: string;
  /** Draws the next batch as plain arrays. */
  nextArrays(): Promise<PatchArrays>;
  /** Current stream position. */
  state(): DatasetState;
  /** Moves the stream to a saved position. */
  restore(state: DatasetState): void;
  /** Frees cached images. */
  dispose(): void;
}
