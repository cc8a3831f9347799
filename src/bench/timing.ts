/**
 * Timing helpers shared by the kernel and training-step benchmarks: where to run (a backend with or without
 * sharpen-kd's wasm training kernels), and one timed call with wall and process CPU time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backends/use-backend';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../backends/wasm-kernels/register';
import { currentPlatform } from '../platform/current';

/**
 * Where to run: a TF.js backend name, or `'wasm-stock'` (wasm without sharpen-kd's training kernels, i.e.
 * stock tfjs-backend-wasm; kernels it lacks are skipped).
 *
 * @example
 * ```ts
 * const rows = await benchmarkConvKernels({ targets: ['wasm', 'wasm-stock'] satisfies BenchTarget[] });
 * ```
 */
export type BenchTarget = 'wasm' | 'wasm-stock' | 'cpu';

/** @internal Wall and process CPU time of one call (ms). */
export interface Sample {
  ms: number;
  cpuMs: number;
}

/** @internal Median of `v`. */
export const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * @internal Times `fn` once. One element of its result is read back, so that the work has finished on any backend,
 * without timing a copy of the whole output to JS.
 */
export async function timeOnce(fn: () => tf.Tensor): Promise<Sample> {
  const platform = currentPlatform();
  const c0 = platform.cpuTimeMs();
  const t0 = performance.now();
  const y = fn();
  const probe = tf.tidy(() => tf.slice(tf.reshape(y, [-1]), 0, 1));
  await probe.data();
  probe.dispose();
  const ms = performance.now() - t0;
  const cpuMs = platform.cpuTimeMs() - c0;
  y.dispose();
  return { ms, cpuMs };
}

/** @internal Makes `target` the active backend, with or without the wasm training kernels. */
export async function selectTarget(target: BenchTarget): Promise<void> {
  // useBackend loads the backend package on first use (BackendError with an install hint when it is missing).
  await useBackend(target === 'cpu' ? 'cpu' : 'wasm', { trainingKernels: false });
  if (target === 'wasm') registerWasmTrainingKernels();
  else if (target === 'wasm-stock') unregisterWasmTrainingKernels();
}

