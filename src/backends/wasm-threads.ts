/**
 * Multi-threaded XNNPACK for the TF.js wasm backend in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD binary but never uses it in Node, for three reasons, each
 * worked around here for the duration of the backend's initialisation only:
 *
 * 1. The `WASM_HAS_MULTITHREAD_SUPPORT` flag evaluates to `false` whenever `IS_NODE` (tensorflow/tfjs#3830).
 *    -> The flag is set to `true` (Node >= 16 has SharedArrayBuffer, wasm threads and worker_threads).
 * 2. The pthread worker script is handed to Emscripten as a `blob:` URL made by `URL.createObjectURL`;
 *    Node's `worker_threads.Worker` only accepts file paths, and the worker would then import the main
 *    script from another blob it cannot read.
 *    -> The worker script (shipped in `wasm-out/`) is written to a temp file whose "load" handler imports
 *    the threaded glue from the package folder; `URL.createObjectURL` returns that path for it.
 * 3. The C++ side caps the pool at `emscripten_num_logical_cores() / 2`, i.e. `os.cpus().length / 2` in
 *    Node, assuming two hardware threads per core: 1 thread on a 2-core machine.
 *    -> `os.cpus()` reports `2 * threads` entries while the module is instantiated.
 *
 * 4. Emscripten `ref()`s a Node worker while it runs a pthread, and XNNPACK's pool threads run forever: the
 *    process would never exit once its work is done (and a CLI run would hang after "done").
 *    -> {@link unrefWasmWorkers} unrefs every pool worker after initialisation (the main thread blocks on
 *    them synchronously inside each kernel, so nothing asynchronous depends on them).
 *
 * The 8 pthread workers Emscripten pre-spawns cost ~1-3 s at start-up and ~10 MB each.
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../io/atomic-write';

/** What {@link prepareNodeWasmThreads} changed, to undo once the backend is initialised. */
export type RestoreThreadsPatch = () => void;

const BLOB_BRANCH =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

let workerFile: string | undefined;

async function writeWorkerFile(): Promise<string> {
  if (workerFile) return workerFile;
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const os = await import('node:os');
  const req = createRequire(typeof __filename !== 'undefined' ? __filename : import.meta.url);
  const pkgDir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const version = (req('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const glue = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const contents = (req(path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string })
    .wasmWorkerContents;
  if (!contents.includes(BLOB_BRANCH)) {
    throw new Error(`tfjs-backend-wasm ${version}: unexpected pthread worker script; cannot enable threads in Node.`);
  }
  // Same escaping as tfjs does before making its blob: the template keeps "\n" escapes inside strings.
  const script = contents.replace(BLOB_BRANCH, `importScripts(${JSON.stringify(glue)});`).replace(/\n/g, '\\n');
  const file = path.join(os.tmpdir(), `sharpen-kd-tfjs-wasm-${version}-pthread-worker.cjs`);
  await writeFileAtomic(file, script);
  workerFile = file;
  return file;
}

/**
 * Makes the next initialisation of the wasm backend in Node use the threaded SIMD binary with `threads`
 * XNNPACK threads. Call before `tf.setBackend('wasm')` initialises the backend for the first time, and
 * call the returned function after it (it undoes the temporary patches; the flag stays set).
 *
 * @example
 * ```ts
 * const restore = await prepareNodeWasmThreads(2);
 * try { await tf.setBackend('wasm'); } finally { restore(); }
 * ```
 */
export async function prepareNodeWasmThreads(threads: number): Promise<RestoreThreadsPatch> {
  const file = await writeWorkerFile();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const os = (await import('node:os')).default;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = ((obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? file : createObjectURL(obj)) as typeof URL.createObjectURL;
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i % real.length]);
  };
  return () => {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  };
}

interface NodeWorkerLike {
  ref(): void;
  unref(): void;
}

/**
 * Lets the process exit while the threaded wasm backend's pthread workers are alive: unrefs every worker of
 * the Emscripten pool and keeps it unref'd. Call after `tf.setBackend('wasm')` has initialised the threaded
 * backend (`useBackend('wasm', { threads })` does). Returns the number of workers unref'd.
 *
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * unrefWasmWorkers(); // 8
 * ```
 */
export function unrefWasmWorkers(): number {
  const module = (tf.findBackend('wasm') as unknown as { wasm?: { PThread?: { unusedWorkers?: NodeWorkerLike[]; runningWorkers?: NodeWorkerLike[] } } } | null)?.wasm;
  const pool = module?.PThread;
  if (!pool) return 0;
  const workers = [...(pool.unusedWorkers ?? []), ...(pool.runningWorkers ?? [])];
  for (const w of workers) {
    if (typeof w.unref !== 'function') continue;
    w.unref();
    w.ref = () => {};
  }
  return workers.length;
}
