/**
 * The wasm backend's own kernels that sharpen-kd replaces, kept so that a replacement can fall back to the
 * original for cases it does not speed up, and so that `unregisterWasmTrainingKernels` can restore them.
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

const originals = new Map<string, KernelConfig>();

/** @internal Records the backend's own config of `kernelName` (first one seen wins). */
export function rememberOriginal(cfg: KernelConfig): void {
  if (!originals.has(cfg.kernelName)) originals.set(cfg.kernelName, cfg);
}

/** @internal The backend's own config of `kernelName`, if sharpen-kd replaced it. */
export function originalConfig(kernelName: string): KernelConfig | undefined {
  return originals.get(kernelName);
}

const setUp = new Set<string>();

/**
 * @internal Runs the backend's own `kernelName` kernel. Its `setupFunc` (which binds the wasm function) ran
 * only if the backend initialised before sharpen-kd replaced it, so it is run here once, on first use.
 */
export const callOriginal: (kernelName: string, args: Parameters<KernelFunc>[0]) => ReturnType<KernelFunc> = (kernelName, args) => {
  const cfg = originals.get(kernelName);
  if (!cfg) throw new Error(`sharpen-kd wasm kernels: no original ${kernelName} kernel recorded.`);
  if (!setUp.has(kernelName)) {
    cfg.setupFunc?.(args.backend);
    setUp.add(kernelName);
  }
  return cfg.kernelFunc(args);
};
