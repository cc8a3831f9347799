/**
 * A/B of the Conv2DBackpropFilter formulations on wasm (convolution, im2col + matmul, the WebAssembly SIMD loop) for
 * student and ResNet-teacher shapes: median ms of interleaved repetitions, and each one's agreement with the
 * convolution. The figures in docs/training-on-wasm.md come from this script; run it on a quiet
 * machine.
 *
 * Usage: npx tsx lab/scripts/bench-filter-grad.ts [--reps 7] [--calls 4]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { KernelScope, withScope, type WasmBackendLike } from '../../src/backends/wasm-kernels/kernel-scope';
import { filterGradByConv } from '../../src/backends/wasm-kernels/conv2d-backprop-filter';
import { filterGradByMatMul, type FilterGradGeometry } from '../../src/backends/wasm-kernels/filter-grad-matmul';
import { canFilterGradSimd, filterGradSimd } from '../../src/backends/wasm-kernels/filter-grad-simd';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '7' }, calls: { type: 'string', default: '4' } } });
await useBackend('wasm');
const be = tf.backend() as unknown as WasmBackendLike;
type Impl = (s: KernelScope, x: tf.TensorInfo, dy: tf.TensorInfo, g: FilterGradGeometry) => tf.TensorInfo;
const cases = [
  // [B, H, W, Ci, K, Co, stride]
  [16, 32, 32, 3, 3, 16, 1], [16, 32, 32, 16, 3, 16, 1], [16, 48, 48, 16, 3, 16, 1], [16, 32, 32, 16, 3, 48, 1], [16, 32, 32, 32, 3, 32, 1],
  [16, 24, 24, 16, 1, 64, 1], [16, 24, 24, 64, 1, 16, 1], [16, 24, 24, 80, 3, 16, 1], [16, 24, 24, 16, 3, 16, 1],
  [16, 6, 6, 320, 3, 64, 1], [16, 6, 6, 64, 3, 64, 1], [16, 3, 3, 128, 3, 128, 1], [16, 24, 24, 64, 1, 128, 2], [16, 12, 12, 32, 3, 32, 2],
  [16, 64, 64, 16, 3, 16, 1],
];
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
for (const [B, H, W, Ci, K, Co, st] of cases) {
  const pad = K === 1 ? 0 : (K - 1) >> 1;
  const OH = Math.ceil(H / st), OW = Math.ceil(W / st);
  const x = tf.randomUniform([B, H, W, Ci]);
  const dy = tf.randomUniform([B, OH, OW, Co]);
  const padTop = Math.max(0, ((OH - 1) * st + K - H) >> 1), padLeft = Math.max(0, ((OW - 1) * st + K - W) >> 1);
  void pad;
  const g: FilterGradGeometry = { kh: K, kw: K, strides: [st, st], dilations: [1, 1], padTop, padLeft };
  const impls: [string, Impl][] = [['conv', filterGradByConv], ['matmul', filterGradByMatMul]];
  if (canFilterGradSimd(new KernelScope(be), g)) impls.push(['simd', filterGradSimd]);
  const run = (f: Impl) => { const o = withScope(be, (s) => f(s, x, dy, g)); const d = be.readSync(o.dataId) as Float32Array; be.disposeData(o.dataId); return d; };
  const ref = run(filterGradByConv);
  const times = impls.map(() => [] as number[]);
  const rel = impls.map(([, f]) => { const a = run(f); let md = 0, mx = 0; for (let i = 0; i < a.length; i++) { md = Math.max(md, Math.abs(a[i] - ref[i])); mx = Math.max(mx, Math.abs(ref[i])); } return md / mx; });
  for (let rep = 0; rep < Number(args.reps); rep++) impls.forEach(([, f], i) => { const t0 = performance.now(); for (let c = 0; c < Number(args.calls); c++) run(f); times[i].push((performance.now() - t0) / Number(args.calls)); });
  const fl = 2 * B * OH * OW * Ci * Co * K * K;
  console.log(`x[${B},${H},${W},${Ci}] k${K} s${st} Co${Co}: ` + impls.map(([n], i) => `${n} ${median(times[i]).toFixed(2)} ms (${(fl / median(times[i]) / 1e6).toFixed(1)} GF/s, rel ${rel[i].toExponential(0)})`).join(', '));
  tf.dispose([x, dy]);
}
