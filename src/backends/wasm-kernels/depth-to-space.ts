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
    if (dataFormat === 'NCHW') {
      const [b, c, h, w] = x.shape;
      const oc = c / (bs * bs);
      // [b, i, j, oc, h, w] -> [b, oc, h, i, w, j]
      const t = s.permute(s.reshape(x, [b, bs, bs, oc, h, w]), [0, 3, 4, 1, 5, 2]);
      return s.reshape(t, [b, oc, h * bs, w * bs]);
    }
    const [b, h, w, c] = x.shape;
    const oc = c / (bs * bs);
    // [b*h, w, i, (j, oc)] -> [b*h, i, w, (j, oc)]
    const t = s.transpose(s.reshape(x, [b * h, w, bs, bs * oc]), [0, 2, 1, 3]);
    return s.reshape(t, [b, h * bs, w * bs, oc]);
  });
};

/** Kernel config: `DepthToSpace` on `wasm` by reshape + transpose. */
export const depthToSpaceConfig: KernelConfig = { kernelName: 'DepthToSpace', backendName: 'wasm', kernelFunc: depthToSpace };
