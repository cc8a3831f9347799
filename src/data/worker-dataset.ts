/**
 * A patch stream made in a worker thread (Node): {@link openDataset} runs in a `worker_threads` Worker and the
 * training thread only receives finished batches. Cropping, MATLAB-style downscaling, blur, noise and JPEG cost as
 * much as a training step for the blind ×1 degradations; in the training thread they would wait for each other, in
 * a worker they overlap with the step.
 *
 * The stream is the same, batch for batch: batch `b` of a patch stream is a pure function of `(seed, b)` (see
 * `patch-dataset.ts`), so the worker computes exactly what {@link openDataset} would in this thread, and `state` /
 * `restore` work as there. One batch is requested ahead of the one being used.
 */
import { ConfigError, InputError, IoError } from '../errors';
import type { SyntheticOptions } from './datasets';
import type { DatasetState, PatchArrays, PatchBatch, PatchDataset, Scale } from './types';
import { arraysToBatch } from './patch-dataset';

/** What the worker says about the stream once it is open. */
export interface WorkerStreamInfo {
  scale: Scale;
  patchSize: number;
  batchSize: number;
  description: string;
  unlabeled?: boolean;
  teacher?: string;
  seed: number;
}

/** @internal Messages between this module and `dataset-worker.ts`. */
export type ToWorker = { type: 'open'; paths: string[]; opts: SyntheticOptions } | { type: 'batch'; batch: number };
/** @internal */
export type FromWorker =
  | { type: 'open'; info: WorkerStreamInfo }
  | { type: 'batch'; batch: number; arrays: PatchArrays }
  | { type: 'error'; batch?: number; error: { name: string; message: string; code?: string; file?: string } };

/** Rebuilds a typed error from the worker's description of it (an InputError's message already names its file). */
function reviveError(e: { name: string; message: string; file?: string }): Error {
  if (e.name === 'InputError') {
    const err = new InputError(e.message);
    if (e.file) Object.defineProperty(err, 'file', { value: e.file });
    return err;
  }
  if (e.name === 'ConfigError') return new ConfigError(e.message);
  return new IoError(`the data worker failed: ${e.message}`);
}

/** The file of the worker next to this module: `.ts` from the sources (run through tsx), `.js` / `.cjs` when built. */
async function workerEntry(): Promise<{ entry: string; tsx?: string }> {
  const here = import.meta.url;
  const ext = /\.[cm]?ts(\?.*)?$/.test(here) ? '.ts' : here.endsWith('.cjs') ? '.cjs' : '.js';
  const entry = new URL(`./dataset-worker${ext}`, here).href;
  if (ext !== '.ts') return { entry };
  // From the sources (tests, the lab), the worker registers tsx's loader first: a worker does not inherit it.
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const req = createRequire(here);
  const pkgFile = req.resolve('tsx/package.json');
  type Target = string | { default?: Target; import?: Target } | undefined;
  const pkg = req(pkgFile) as { exports: Record<string, Target> };
  const pick = (t: Target): string | undefined => (typeof t === 'string' || t === undefined ? t : pick(t.import ?? t.default));
  const rel = pick(pkg.exports['./esm/api']);
  if (!rel) throw new Error('tsx has no ESM API entry: cannot run the data worker from the sources');
  return { entry, tsx: pathToFileURL(path.join(path.dirname(pkgFile), rel)).href };
}

const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

/**
 * Opens the same stream as {@link openDataset}(`paths`, `opts`), made in a worker thread (Node only). Dispose it to
 * stop the worker.
 *
 * @throws what {@link openDataset} throws (InputError for unreadable images, ConfigError for bad options), from the
 *   worker; IoError when the worker cannot start or stops.
 * @example
 * ```ts
 * const data = await openDatasetInWorker(['../shared/data/T91/HR'], { scale: 1, patchSize: 128, seed: 1 });
 * const batch = await data.nextArrays(); // made off the training thread
 * data.dispose();
 * ```
 */
export async function openDatasetInWorker(paths: string[], opts: SyntheticOptions): Promise<PatchDataset> {
  const { Worker } = await import('node:worker_threads');
  const { entry, tsx } = await workerEntry();
  const worker = new Worker(BOOT, { eval: true, workerData: { entry, tsx } });
  // Batches asked of the worker and not yet answered, and the promises of batches asked for and not yet taken.
  const waiting = new Map<number, { resolve: (a: PatchArrays) => void; reject: (e: Error) => void }>();
  const asked = new Map<number, Promise<PatchArrays>>();
  let failure: Error | undefined;
  let opened: { resolve: (i: WorkerStreamInfo) => void; reject: (e: Error) => void } | undefined;
  const failAll = (e: Error) => {
    failure ??= e;
    opened?.reject(e);
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
    worker.unref();
  };
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'open') opened?.resolve(m.info);
    else if (m.type === 'batch') {
      const w = waiting.get(m.batch);
      w?.resolve(m.arrays);
      if (w) waiting.delete(m.batch);
    } else {
      const e = reviveError(m.error);
      if (m.batch === undefined) failAll(e);
      else {
        waiting.get(m.batch)?.reject(e);
        waiting.delete(m.batch);
      }
    }
    // The worker keeps the process alive only while a batch is awaited.
    if (waiting.size === 0) worker.unref();
  });
  worker.on('error', (e: Error) => failAll(new IoError(`the data worker failed: ${e.message}`, { cause: e })));
  worker.on('exit', (code) => failAll(new IoError(`the data worker stopped (exit code ${code})`)));

  const info = await new Promise<WorkerStreamInfo>((resolve, reject) => {
    opened = { resolve, reject };
    worker.postMessage({ type: 'open', paths, opts } satisfies ToWorker);
  }).finally(() => (opened = undefined));

  let batch = 0;
  const ask = (b: number): Promise<PatchArrays> => {
    const known = asked.get(b);
    if (known) return known;
    if (failure) return Promise.reject(failure);
    const promise = new Promise<PatchArrays>((resolve, reject) => waiting.set(b, { resolve, reject }));
    promise.catch(() => undefined); // surfaced when it is taken
    asked.set(b, promise);
    worker.ref();
    worker.postMessage({ type: 'batch', batch: b } satisfies ToWorker);
    return promise;
  };

  const ds: PatchDataset = {
    scale: info.scale,
    patchSize: info.patchSize,
    batchSize: info.batchSize,
    description: info.description,
    unlabeled: info.unlabeled,
    teacher: info.teacher,
    nextArrays: () => {
      if (failure) return Promise.reject(failure);
      const b = batch++;
      const out = ask(b);
      asked.delete(b);
      void ask(b + 1);
      return out;
    },
    state: () => ({ seed: info.seed, batch }),
    restore(s: DatasetState) {
      if (s.seed >>> 0 !== info.seed) throw new ConfigError(`cannot restore a dataset stream of seed ${s.seed} into one of seed ${info.seed}; use the same --seed`);
      batch = s.batch;
      asked.clear();
    },
    dispose() {
      failure ??= new IoError('the dataset was disposed');
      asked.clear();
      void worker.terminate();
    },
    async *[Symbol.asyncIterator](): AsyncIterator<PatchBatch> {
      for (;;) yield arraysToBatch(await ds.nextArrays());
    },
  };
  return ds;
}
