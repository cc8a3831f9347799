/**
 * A/B of the two Conv2DBackpropFilter formulations on wasm (convolution vs im2col + matmul) for student and
 * ResNet-teacher shapes: mean ms of 3 interleaved repetitions of 8 calls each, and their agreement. The figures in
 * docs/training-on-wasm.md ("Large-channel layers") come from this script; run it on a quiet machine.
 *
 * Usage: npx tsx lab/scripts/bench-filter-grad.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { withScope, type WasmBackendLike } from '../../src/backends/wasm-kernels/kernel-scope';
import { filterGradByConv } from '../../src/backends/wasm-kernels/conv2d-backprop-filter';
import { filterGradByMatMul } from '../../src/backends/wasm-kernels/filter-grad-matmul';
await useBackend('wasm');
const be = tf.backend() as unknown as WasmBackendLike;
const cases = [
  // [B, H, W, Ci, K, Co, stride]
  [16, 32, 32, 3, 3, 16, 1], [16, 32, 32, 16, 3, 16, 1], [16, 32, 32, 16, 3, 48, 1],
  [16, 24, 24, 16, 1, 64, 1], [16, 24, 24, 64, 1, 16, 1], [16, 24, 24, 80, 3, 16, 1], [16, 24, 24, 16, 3, 16, 1],
  [16, 6, 6, 320, 3, 64, 1], [16, 6, 6, 64, 3, 64, 1], [16, 3, 3, 128, 3, 128, 1], [16, 24, 24, 64, 1, 128, 2], [16, 12, 12, 32, 3, 32, 2],
  [16, 64, 64, 16, 3, 16, 1],
];
for (const [B, H, W, Ci, K, Co, st] of cases) {
  const pad = K === 1 ? 0 : (K - 1) >> 1;
  const OH = Math.ceil(H / st), OW = Math.ceil(W / st);
  const x = tf.randomUniform([B, H, W, Ci]);
  const dy = tf.randomUniform([B, OH, OW, Co]);
  const padTop = Math.max(0, ((OH - 1) * st + K - H) >> 1), padLeft = Math.max(0, ((OW - 1) * st + K - W) >> 1);
  const g = { kh: K, kw: K, strides: [st, st] as [number, number], dilations: [1, 1] as [number, number], padTop, padLeft };
  const run = (f: typeof filterGradByConv) => { const o = withScope(be, (s) => f(s, x, dy, g)); const d = be.readSync(o.dataId) as Float32Array; be.disposeData(o.dataId); return d; };
  const a = run(filterGradByConv), b = run(filterGradByMatMul);
  let md = 0, mx = 0; for (let i = 0; i < a.length; i++) { md = Math.max(md, Math.abs(a[i] - b[i])); mx = Math.max(mx, Math.abs(a[i])); }
  const time = (f: typeof filterGradByConv, n = 8) => { const t0 = performance.now(); for (let i = 0; i < n; i++) run(f); return (performance.now() - t0) / n; };
  let tc = 0, tm = 0;
  for (let rep = 0; rep < 3; rep++) { tc += time(filterGradByConv); tm += time(filterGradByMatMul); }
  const fl = 2 * B * OH * OW * Ci * Co * K * K;
  console.log(`x[${B},${H},${W},${Ci}] k${K} s${st} Co${Co}: conv ${(tc / 3).toFixed(2)} ms, matmul ${(tm / 3).toFixed(2)} ms (${(fl / (tm / 3) / 1e6).toFixed(1)} GFLOP/s)  rel ${(md / mx).toExponential(1)}`);
  tf.dispose([x, dy]);
}
