import { BackendError } from '../errors';
import { currentPlatform } from '../platform/current';
import { importOptional } from '../platform/import-optional';
import { tfCore } from './tf-lazy';

/**
 * The TF.js backends sharpen-kd can run on. `'tensorflow'` is tfjs-node (or tfjs-node-gpu).
 *
 * @example
 * ```ts
 * const backend: BackendName = 'wasm';
 * await useBackend(backend);
 * ```
 */
export type BackendName = 'cpu' | 'wasm' | 'webgl' | 'webgpu' | 'tensorflow';

/**
 * Options of {@link useBackend}.
 *
 * @example
 * ```ts
 * await useBackend('wasm', { threads: 1 });
 * ```
 */
export interface UseBackendOptions {
  /**
   * wasm only: XNNPACK threads (default 1). In Node, `threads > 1` switches to tfjs's threaded build, which
   * tfjs itself disables there (see docs/training-on-wasm.md); only the first initialisation in a process counts.
   */
  threads?: number;
  /** wasm only: folder or URL prefix holding the `.wasm` files. In Node the installed package is found by default. */
  wasmPaths?: string;
  /** tensorflow only: prefer `@tensorflow/tfjs-node-gpu` over `@tensorflow/tfjs-node`. */
  gpu?: boolean;
  /** wasm only: register sharpen-kd's training kernels (default true). */
  trainingKernels?: boolean;
}

const PACKAGES: Record<BackendName, string[]> = {
  cpu: ['@tensorflow/tfjs-backend-cpu'],
  wasm: ['@tensorflow/tfjs-backend-wasm'],
  webgl: ['@tensorflow/tfjs-backend-webgl'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu'],
  tensorflow: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
};

/**
 * Every name {@link useBackend} accepts.
 *
 * @example
 * ```ts
 * BACKEND_NAMES.includes('webgl'); // true
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'];

function installHint(name: BackendName): string {
  const pkgs = PACKAGES[name];
  if (name === 'tensorflow') {
    return `install it with \`npm install ${pkgs[0]}\` (or ${pkgs[1]} for CUDA). Its install script downloads libtensorflow, so it needs network access at install time; otherwise use 'wasm'.`;
  }
  return `install it with \`npm install ${pkgs[0]}\``;
}

/**
 * Selects and initialises a TF.js backend, importing its package on demand.
 *
 * - `'wasm'` in Node finds its `.wasm` binaries in `node_modules` (no network access) and, unless
 *   `trainingKernels: false`, registers the training kernels sharpen-kd adds (Conv2DBackpropFilter and friends).
 * - Optional backends (`webgl`, `webgpu`, `tensorflow`) that are not installed raise a {@link BackendError}
 *   that says how to install them.
 *
 * @returns the name of the active backend.
 *
 * @example
 * ```ts
 * import { useBackend } from 'sharpen-kd';
 * await useBackend('wasm');          // fast CPU backend, training works too
 * await useBackend('webgl');         // browsers: import '@tensorflow/tfjs-backend-webgl' first or install it
 * ```
 */
export async function useBackend(name: BackendName, opts: UseBackendOptions = {}): Promise<string> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new BackendError(`Unknown backend "${String(name)}": use one of ${BACKEND_NAMES.join(', ')}.`);
  }
  const tf = await tfCore();
  const tfName = name;
  if (!tf.findBackendFactory(tfName)) {
    let loaded = false;
    let lastErr: unknown;
    const candidates = name === 'tensorflow' && opts.gpu ? [...PACKAGES.tensorflow].reverse() : PACKAGES[name];
    for (const pkg of candidates) {
      try {
        await importOptional(pkg);
        loaded = true;
        break;
      } catch (e) {
        lastErr = e;
      }
    }
    if (!loaded || !tf.findBackendFactory(tfName)) {
      throw new BackendError(`Backend "${name}" is not available: ${installHint(name)}`, { cause: lastErr });
    }
  }

  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const platform = currentPlatform();
    const paths = opts.wasmPaths ?? (await platform.wasmPaths());
    if (paths && tf.getBackend() !== 'wasm' && !tf.engine().registry['wasm']) wasm.setWasmPaths(paths);
    if (opts.trainingKernels !== false) {
      // Loaded on demand: inference-only programs never load the training kernels.
      const { registerWasmTrainingKernels } = await import('./wasm-kernels/register');
      registerWasmTrainingKernels();
    }
    const initialised = tf.engine().registry['wasm'] != null;
    if (opts.threads !== undefined && opts.threads > 1 && platform.wasmThreadsPatch && !initialised) {
      // tfjs-backend-wasm disables threads in Node; see ./wasm-threads.ts and docs/training-on-wasm.md.
      const { prepareNodeWasmThreads, unrefWasmWorkers } = await import('./wasm-threads');
      const restore = await prepareNodeWasmThreads(opts.threads);
      try {
        if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend returned false');
        unrefWasmWorkers();
      } catch (e) {
        throw new BackendError(`Backend "wasm" failed to initialise with ${opts.threads} threads: ${(e as Error).message}. Try threads: 1.`, { cause: e });
      } finally {
        restore();
      }
    } else if (opts.threads !== undefined) {
      wasm.setThreadsCount(opts.threads);
    }
  }

  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
    await tf.ready();
  } catch (e) {
    throw new BackendError(`Backend "${name}" failed to initialise: ${(e as Error).message}`, { cause: e });
  }
  if (!ok) throw new BackendError(`Backend "${name}" failed to initialise on this platform (see the TF.js warning above). Try 'wasm' or 'cpu'.`);
  return tf.getBackend();
}

/**
 * Makes sure TF.js has a backend (bicubic and the alpha channel run on TF.js): wasm in Node, the default elsewhere.
 * Keeps whichever backend is already active.
 *
 * @returns the name of the active backend.
 * @example
 * ```ts
 * await ensureTfBackend(); // 'wasm' in Node unless another backend was set first
 * ```
 */
export async function ensureTfBackend(threads?: number): Promise<string> {
  const tf = await tfCore();
  if (tf.engine().backendName) return tf.getBackend();
  const fallback = currentPlatform().defaultTfBackend;
  if (fallback) return useBackend(fallback, { threads, trainingKernels: false });
  await tf.ready();
  return tf.getBackend();
}
