/**
 * Gradient of `DepthToSpace` (pixel shuffle), for every backend.
 *
 * tfjs-core 4.22 registers no gradient for `DepthToSpace`, so `tf.depthToSpace` inside a trained model
 * throws "gradient function not found". Depth-to-space is a pure permutation of elements, so its gradient
 * is the inverse permutation (space-to-depth) of `dy`: reshape, transpose, reshape.
 *
 * Importing this module registers the gradient (once); the models and the wasm training kernels import it
 * for that side effect.
 */
import { getGradient, registerGradient, reshape, transpose, type DepthToSpaceAttrs, type Tensor, type Tensor4D } from '@tensorflow/tfjs-core';

/**
 * Space-to-depth, the inverse of `tf.depthToSpace(x, blockSize, dataFormat)`:
 * NHWC `[B, H*bs, W*bs, C]` -> `[B, H, W, bs*bs*C]` with the channel order `(i*bs + j)*C + c` that
 * `depthToSpace` reads (NCHW likewise on `[B, C, H*bs, W*bs]`).
 *
 * @example
 * ```ts
 * const x = tf.randomUniform([1, 4, 4, 12]) as tf.Tensor4D;
 * const back = spaceToDepth(tf.depthToSpace(x, 2), 2); // equals x
 * ```
 */
export function spaceToDepth(y: Tensor4D, blockSize: number, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): Tensor4D {
  const bs = blockSize;
  if (dataFormat === 'NHWC') {
    const [b, hs, ws, c] = y.shape;
    const h = hs / bs;
    const w = ws / bs;
    const t = transpose(reshape(y, [b, h, bs, w, bs, c]), [0, 1, 3, 2, 4, 5]);
    return reshape(t, [b, h, w, bs * bs * c]);
  }
  const [b, c, hs, ws] = y.shape;
  const h = hs / bs;
  const w = ws / bs;
  const t = transpose(reshape(y, [b, c, h, bs, w, bs]), [0, 3, 5, 1, 2, 4]);
  return reshape(t, [b, bs * bs * c, h, w]);
}

/**
 * Registers the `DepthToSpace` gradient unless one is registered already (idempotent). Importing
 * sharpen-kd already does this; call it again only after `tf.unregisterGradient('DepthToSpace')`.
 *
 * @example
 * ```ts
 * registerDepthToSpaceGradient();
 * const g = tf.grad((x) => tf.depthToSpace(x as tf.Tensor4D, 2).sum())(tf.ones([1, 2, 2, 4]));
 * ```
 */
export function registerDepthToSpaceGradient(): void {
  if (getGradient('DepthToSpace') != null) return;
  registerGradient({
    kernelName: 'DepthToSpace',
    gradFunc: (dy: Tensor | Tensor[], _saved: Tensor[], attrs) => {
      const { blockSize, dataFormat } = attrs as unknown as DepthToSpaceAttrs;
      return { x: () => spaceToDepth(dy as Tensor4D, blockSize, dataFormat ?? 'NHWC') };
    },
  });
}

registerDepthToSpaceGradient();
