/**
 * Zero-copy `Identity` for the wasm backend: shares the input's data and counts a reference, as the cpu
 * backend does (tensor data is immutable). tfjs-backend-wasm copies; tfjs-core's autodiff clones every
 * tensor a custom gradient saves (fused conv2d saves its input and output), so a training step paid for
 * several full copies of activations.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { callOriginal } from './originals';

/** Kernel function registered as `Identity` on `wasm`. */
export const identity: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return callOriginal('Identity', args);
  (args.backend as KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Kernel config: `Identity` on `wasm` without copying. */
export const identityConfig: KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity };
