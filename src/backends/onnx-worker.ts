/**
 * An onnxruntime-node session on a worker thread (Node only), for `createOnnxRunner(..., { offThread: true })`.
 *
 * onnxruntime-node runs a session on the thread that calls `run`: the event loop stops for the whole frame, so
 * nothing else of the process (reading the next frame, converting and filtering the last one, writing to a pipe)
 * moves meanwhile. Here the session lives in a worker thread and `run` posts the inputs to it: the calling thread is
 * free until the outputs come back. Inputs are copied to the worker (the caller keeps its arrays); outputs are
 * transferred back without a copy. Calls are queued and run one after the other, in order.
 *
 * The worker is a short script evaluated from a string (no file to find next to a bundle) that `require`s the same
 * onnxruntime-node the caller resolved. It does not keep the process alive while idle, and `release()` ends it.
 *
 * Exiting the process (`process.exit`, a forced Ctrl-C) stops worker threads; one stopped inside onnxruntime-node's
 * native `run` or model loading aborts the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'") when the native call returns into a dying thread. So the worker takes a lock in shared memory
 * around every native call, and the process's `exit` hook takes it before the threads are stopped: it waits for the
 * frame in flight (at most {@link EXIT_WAIT_MS}) and bars the next one.
 */
import { BackendError } from '../errors';

/** A tensor as it crosses to and from the worker. */
export interface WorkerTensor {
  type: string;
  data: Float32Array | Uint8Array;
  dims: readonly number[];
}

/** The session API of onnxruntime-common that runners use, served from a worker thread. */
export interface WorkerSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the session; `fetches` names the outputs wanted (default: all). */
  run(feeds: Record<string, WorkerTensor>, fetches?: readonly string[]): Promise<Record<string, WorkerTensor>>;
  release(): Promise<void>;
}

/** How long the process's `exit` hook waits for a frame in flight before letting the process go anyway. */
export const EXIT_WAIT_MS = 10_000;

/** States of the lock (an Int32 in shared memory) around the worker's native calls. */
const IDLE = 0;
const BUSY = 1; // a native call (model loading, run) is in progress
const CLOSED = 2; // the process is exiting: no native call starts any more

/**
 * The worker's script (CommonJS, evaluated): creates the session, then answers `run` and `release` messages.
 * It holds the lock (BUSY) from the start until the session is created, and takes it (IDLE to BUSY) around each run
 * and around the release.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const lock = new Int32Array(workerData.lock);
const unlock = () => { Atomics.compareExchange(lock, 0, ${BUSY}, ${IDLE}); Atomics.notify(lock, 0); };
let session;
const ready = ort.InferenceSession.create(workerData.model, workerData.options).then(
  (s) => { unlock(); session = s; parentPort.postMessage({ type: 'ready', inputNames: s.inputNames, outputNames: s.outputNames }); },
  (e) => { unlock(); parentPort.postMessage({ type: 'failed', message: String((e && e.message) || e) }); },
);
let queue = ready;
parentPort.on('message', (m) => {
  queue = queue.then(async () => {
    if (m.type === 'release') {
      // Under the lock too (a native call); skipped when the process is exiting, which frees everything anyway.
      if (session && Atomics.compareExchange(lock, 0, ${IDLE}, ${BUSY}) === ${IDLE}) {
        try {
          await session.release();
        } finally {
          unlock();
        }
      }
      session = undefined;
      parentPort.postMessage({ type: 'released' });
      return;
    }
    try {
      if (!session) throw new Error('the session is not available');
      const feeds = {};
      for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      if (Atomics.compareExchange(lock, 0, ${IDLE}, ${BUSY}) !== ${IDLE}) throw new Error('the process is exiting');
      let out;
      try {
        out = await (m.fetches ? session.run(feeds, m.fetches) : session.run(feeds));
      } finally {
        unlock();
      }
      const outputs = {};
      const transfer = [];
      for (const [name, t] of Object.entries(out)) {
        outputs[name] = { type: t.type, data: t.data, dims: t.dims };
        if (t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && !transfer.includes(t.data.buffer)) transfer.push(t.data.buffer);
      }
      try {
        parentPort.postMessage({ type: 'result', id: m.id, outputs }, transfer);
      } catch {
        parentPort.postMessage({ type: 'result', id: m.id, outputs }); // a buffer that cannot move is copied
      }
    } catch (e) {
      parentPort.postMessage({ type: 'result', id: m.id, error: String((e && e.message) || e) });
    }
  });
});
`;

type Reply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'failed'; message: string }
  | { type: 'released' }
  | { type: 'result'; id: number; outputs?: Record<string, WorkerTensor>; error?: string };

/**
 * @internal Starts a worker thread holding an onnxruntime-node session of `model` with `options` (as
 * `InferenceSession.create` takes them), loading onnxruntime-node from `ortPath` (a resolved module path).
 *
 * @throws BackendError when the worker cannot start or the session cannot be created (ONNX Runtime's message).
 */
export async function createWorkerSession(ortPath: string, model: Uint8Array, options: Record<string, unknown>): Promise<WorkerSession> {
  const { Worker } = await import('node:worker_threads');
  // No execArgv: the worker needs none of the parent's loaders or flags (a TypeScript loader would load in it too).
  const lock = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(lock, 0, BUSY); // until the session is created
  const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { ortPath, model, options, lock: lock.buffer } });
  // Runs inside process.exit, before worker threads are stopped: waits out a native call in flight, bars the next.
  const onExit = (): void => {
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (Atomics.compareExchange(lock, 0, IDLE, CLOSED) === BUSY) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(lock, 0, BUSY, left);
    }
  };
  process.on('exit', onExit);
  const pending = new Map<number, { resolve: (v: Record<string, WorkerTensor>) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | undefined;
  let onReady: ((r: Reply) => void) | undefined;
  let onReleased: (() => void) | undefined;

  const die = (e: Error): void => {
    if (dead) return;
    dead = e;
    process.off('exit', onExit);
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    onReady?.({ type: 'failed', message: e.message });
    onReleased?.();
  };
  worker.on('message', (m: Reply) => {
    if (m.type === 'ready' || m.type === 'failed') onReady?.(m);
    else if (m.type === 'released') onReleased?.();
    else {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (pending.size === 0) worker.unref();
      if (!p) return;
      if (m.error !== undefined) p.reject(new BackendError(`ONNX Runtime (worker thread): ${m.error}`));
      else p.resolve(m.outputs!);
    }
  });
  worker.on('error', (e: Error) => die(new BackendError(`the ONNX Runtime worker thread failed: ${e.message}`, { cause: e })));
  worker.on('exit', (code) => die(new BackendError(`the ONNX Runtime worker thread exited (code ${code})`)));

  const first = await new Promise<Reply>((resolve) => (onReady = resolve));
  onReady = undefined;
  if (first.type !== 'ready') {
    await worker.terminate();
    throw new BackendError(`ONNX Runtime could not load the model: ${first.type === 'failed' ? first.message : 'no session'}`);
  }
  worker.unref(); // idle: the process may exit

  return {
    inputNames: first.inputNames,
    outputNames: first.outputNames,
    run(feeds, fetches) {
      if (dead) return Promise.reject(dead);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.ref(); // a run in flight keeps the process alive until its answer
        worker.postMessage({ type: 'run', id, feeds, fetches });
      });
    },
    async release() {
      if (dead) return;
      const released = new Promise<void>((resolve) => (onReleased = resolve));
      worker.postMessage({ type: 'release' });
      await released;
      dead = new BackendError('this ONNX session has been released');
      process.off('exit', onExit);
      await worker.terminate();
    },
  };
}
