/**
 * `DepthToSpace` (pixel shuffle) for the wasm backend as a reshape + rank-4 transpose: tfjs-backend-wasm's
 * own kernel computes every index with divisions and is ~10x slower than the copy it amounts to.
 */
import type { DepthToSpaceAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './kernel-scope';

/** Kernel function registered as `DepthToSpace` on `wasm`. */
export const depthToSpace: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const { blockSize: bs, dataFormat } = attrs as unknown as DepthToSpaceAttrs;
  return withScope(backend as KernelBackend, (s) => {
    const nchw = dataFormat === 'NCHW';
    const xh = nchw ? s.transpose(x, [0, 2, 3, 1]) : x;
    const [b, h, w, c] = xh.shape;
    const oc = c / (bs * bs);
    // [b*h, w, i, (j, oc)] -> [b*h, i, w, (j, oc)]
    const t = s.transpose(s.reshape(xh, [b * h, w, bs, bs * oc]), [0, 2, 1, 3]);
    const y = s.reshape(t, [b, h * bs, w * bs, oc]);
    return nchw ? s.transpose(y, [0, 3, 1, 2]) : y;
  });
};

/** Kernel config: `DepthToSpace` on `wasm` by reshape + transpose. */
export const depthToSpaceConfig: KernelConfig = { kernelName: 'DepthToSpace', backendName: 'wasm', kernelFunc: depthToSpace };
