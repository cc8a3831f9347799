/**
 * The worker side of {@link openDatasetInWorker} (`worker-dataset.ts`): opens the stream with {@link openDataset}
 * and answers batch requests, moving each batch's arrays to the training thread without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { openDataset } from './datasets';
import type { FromWorker, ToWorker } from './worker-dataset';
import type { PatchArrays, PatchDataset } from './types';

const port = parentPort;
if (!port) throw new Error('dataset-worker.ts runs in a worker thread (see openDatasetInWorker)');

function describe(e: unknown): Extract<FromWorker, { type: 'error' }>['error'] {
  const err = e as Error & { code?: string; file?: string };
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e), code: err?.code, file: err?.file };
}

function buffers(a: PatchArrays): ArrayBuffer[] {
  const all = [a.lr, a.hr, a.teacher, ...(a.teacherFeatures ?? []).map((f) => f.data)].filter((x): x is Float32Array => x !== undefined);
  return [...new Set(all.map((x) => x.buffer as ArrayBuffer))];
}

let data: PatchDataset | undefined;
// Requests are answered one at a time, in order: the stream's own prefetch then overlaps the next batch with the send.
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: ToWorker) => {
  queue = queue.then(async () => {
    if (m.type === 'open') {
      try {
        data = await openDataset(m.paths, m.opts);
        const { scale, patchSize, batchSize, description, unlabeled, teacher } = data;
        port.postMessage({ type: 'open', info: { scale, patchSize, batchSize, description, unlabeled, teacher, seed: data.state().seed } } satisfies FromWorker);
      } catch (e) {
        port.postMessage({ type: 'error', error: describe(e) } satisfies FromWorker);
      }
      return;
    }
    try {
      if (!data) throw new Error('the stream is not open');
      const s = data.state();
      if (s.batch !== m.batch) data.restore({ seed: s.seed, batch: m.batch });
      const arrays = await data.nextArrays();
      port.postMessage({ type: 'batch', batch: m.batch, arrays } satisfies FromWorker, buffers(arrays));
    } catch (e) {
      port.postMessage({ type: 'error', batch: m.batch, error: describe(e) } satisfies FromWorker);
    }
  });
});
