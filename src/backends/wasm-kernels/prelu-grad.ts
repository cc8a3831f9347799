/**
 * A cheaper gradient for `Prelu` (same math as tfjs-core's).
 *
 * tfjs-core computes it with `greater`, two `where`s and `zerosLike`; on wasm, boolean masks and `Select`
 * are scalar loops that cost more than the convolution gradients of a small PReLU net. Two ways here:
 *
 * - on wasm, with one alpha per channel and channels in fours (the students' PReLUs, shared over height and width):
 *   one SIMD pass over the heap per gradient ({@link PRELU_GRAD}, `prelu_dx` / `prelu_dalpha` in heap-simd.wat),
 *
 *       dx = x > 0 ? dy : alpha · dy                dalpha[c] = Σ dy · min(x, 0) over the pixels
 *
 *   (a one-slope PReLU takes the loops with its slope repeated per channel, and the channels' dalpha summed),
 *
 * - elsewhere, float ops that XNNPACK vectorises (nine passes over the activation per layer where the above makes two):
 *
 *       m = step(x)                      (1 where x > 0, else 0)
 *       dx = dy - dy * (1 - m) * (1 - alpha)
 *       dalpha = sum(dy * (x - relu(x))) over the axes alpha is broadcast along      (x - relu(x) = min(x, 0))
 *
 *   `dx` is exactly `dy` where x > 0, and `alpha * dy` up to one rounding elsewhere.
 */
import {
  backend_util,
  engine,
  getBackend,
  getGradient,
  getKernel,
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
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { withScope, type WasmBackendLike } from './kernel-scope';
import { heapAddress, heapSimd } from './heap-simd';
import { channelAlphas, perChannelInFours } from './prelu';

/** Name of the one-pass PReLU gradient kernel (registered on wasm by `registerWasmTrainingKernels`). */
export const PRELU_GRAD = 'SharpenKdPreluGrad';

/** Whether {@link PRELU_GRAD} takes this PReLU: alpha `[1, …, 1, C]`, `[C]` or `[1, …, 1]` for C a multiple of 4, on wasm with the kernels. */
function onePass(alpha: Tensor, x: Tensor): boolean {
  if (!perChannelInFours(x, alpha) || !getKernel(PRELU_GRAD, getBackend())) return false;
  return heapSimd(engine().backend as unknown as WasmBackendLike) !== null;
}

/** Kernel function of {@link PRELU_GRAD}: `attrs.output` `'x'` gives dx (shape of x), `'alpha'` gives dalpha. */
export const preluGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, alpha } = inputs as { dy: TensorInfo; x: TensorInfo; alpha: TensorInfo };
  const output = (attrs as { output: 'x' | 'alpha' }).output;
  return withScope(backend as KernelBackend, (s) => {
    const k = heapSimd(s.backend);
    if (!k) throw new Error(`${PRELU_GRAD}: WebAssembly SIMD kernels not available`);
    const c = x.shape[x.shape.length - 1];
    const pixels = x.shape.reduce((p, d) => p * d, 1) / c;
    const a = channelAlphas(s, x, alpha);
    if (output === 'x') {
      const dx = s.empty(x.shape);
      if (pixels > 0) k.prelu_dx(heapAddress(s, dy), heapAddress(s, x), heapAddress(s, a), heapAddress(s, dx), pixels, c);
      return dx;
    }
    const dalpha = s.empty(alpha.shape);
    const perChannel = a === alpha ? dalpha : s.empty([c]);
    const acc = s.empty([2 * c]); // c float64 sums
    k.prelu_dalpha(heapAddress(s, dy), heapAddress(s, x), heapAddress(s, acc), heapAddress(s, perChannel), pixels, c);
    if (perChannel !== dalpha) {
      // One slope for the layer: the sum of the channels' sums, in channel order.
      const v = s.view(perChannel);
      let total = 0;
      for (let i = 0; i < c; i++) total += v[i];
      s.view(dalpha)[0] = total;
    }
    return dalpha;
  });
};

/** Kernel config: {@link PRELU_GRAD} on `wasm`. */
export const preluGradKernelConfig: KernelConfig = { kernelName: PRELU_GRAD, backendName: 'wasm', kernelFunc: preluGradKernel };

/** The fast `Prelu` gradient config. */
export const preluGradConfig: GradConfig = {
  kernelName: 'Prelu',
  inputsToSave: ['x', 'alpha'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const g = dy as Tensor;
    const [x, alpha] = saved;
    if (onePass(alpha, x)) {
      const run = (output: 'x' | 'alpha') => () => engine().runKernel(PRELU_GRAD, { dy: g, x, alpha }, { output }) as Tensor;
      return { x: run('x'), alpha: run('alpha') };
    }
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
