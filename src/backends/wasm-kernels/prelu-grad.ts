/**
 * A cheaper gradient for `Prelu` (same math as tfjs-core's).
 *
 * tfjs-core computes it with `greater`, two `where`s and `zerosLike`; on wasm, boolean masks and `Select`
 * are scalar loops that cost more than the convolution gradients of a small PReLU net. This version uses
 * only float ops that XNNPACK vectorises:
 *
 *     m = step(x)                      (1 where x > 0, else 0)
 *     dx = dy - dy * (1 - m) * (1 - alpha)
 *     dalpha = sum(dy * (x - relu(x))) over the axes alpha is broadcast along      (x - relu(x) = min(x, 0))
 *
 * `dx` is exactly `dy` where x > 0, and `alpha * dy` up to one rounding elsewhere.
 */
import {
  backend_util,
  getGradient,
  mul,
  registerGradient,
  relu,
  reshape,
  scalar,
  step,
  sub,
  sum,
  unregisterGradient,
  type GradConfig,
  type Tensor,
} from '@tensorflow/tfjs-core';

/** The fast `Prelu` gradient config. */
export const preluGradConfig: GradConfig = {
  kernelName: 'Prelu',
  inputsToSave: ['x', 'alpha'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const g = dy as Tensor;
    const [x, alpha] = saved;
    return {
      x: () => {
        const notPositive = sub(scalar(1), step(x));
        return sub(g, mul(mul(g, notPositive), sub(scalar(1), alpha)));
      },
      alpha: () => {
        // min(x, 0) as x - relu(x): wasm's Minimum is a scalar loop, Relu and Sub are XNNPACK.
        let res = mul(g, sub(x, relu(x)));
        const axes = backend_util.getReductionAxes(alpha.shape, g.shape);
        if (axes.length > 0) res = sum(res, axes);
        return reshape(res, alpha.shape);
      },
    };
  },
};

let replaced: GradConfig | undefined;

/** @internal Installs {@link preluGradConfig}, remembering the gradient it replaces. */
export function installPreluGradient(): void {
  const current = getGradient('Prelu');
  if (current === preluGradConfig) return;
  replaced = current ?? undefined;
  if (current) unregisterGradient('Prelu');
  registerGradient(preluGradConfig);
}

/** @internal Restores the `Prelu` gradient that {@link installPreluGradient} replaced. */
export function uninstallPreluGradient(): void {
  if (getGradient('Prelu') !== preluGradConfig) return;
  unregisterGradient('Prelu');
  if (replaced) registerGradient(replaced);
}
