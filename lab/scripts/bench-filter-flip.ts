/**
 * Conv2DBackpropInput (via tf.conv2dTranspose) on wasm for teacher shapes, next to what the backend's Reverse and
 * Transpose of the filter cost on their own and a forward conv with a fresh filter (ms, mean of 20 calls). Shows why
 * the filter flip is done in JS (KernelScope.flipFilter); docs/training-on-wasm.md ("Large-channel layers").
 *
 * Usage: npx tsx lab/scripts/bench-filter-flip.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
await useBackend('wasm');
const time = (f: () => void, n = 20) => { f(); const t0 = performance.now(); for (let i = 0; i < n; i++) f(); return (performance.now() - t0) / n; };
for (const [B, H, C, K, Co] of [[16, 3, 128, 3, 128], [16, 3, 256, 1, 512], [16, 6, 64, 3, 64], [16, 24, 16, 3, 16]]) {
  const dy = tf.randomUniform([B, H, H, Co]) as tf.Tensor4D;
  const w = tf.randomUniform([K, K, C, Co]) as tf.Tensor4D;
  const x = tf.randomUniform([B, H, H, C]) as tf.Tensor4D;
  const fl = 2 * B * H * H * C * Co * K * K;
  const bi = time(() => { const y = tf.conv2dTranspose(dy, w, [B, H, H, C], 1, 'same'); y.dataSync(); y.dispose(); });
  const rev = time(() => { const y = tf.reverse(w, [0, 1]); y.dataSync(); y.dispose(); });
  const tr = time(() => { const y = tf.transpose(w, [0, 1, 3, 2]); y.dataSync(); y.dispose(); });
  const fw = time(() => { const w2 = tf.add(w, 0) as tf.Tensor4D; const y = tf.conv2d(x, w2, 1, 'same'); y.dataSync(); tf.dispose([y, w2]); });
  console.log(`dy[${B},${H},${H},${Co}] w[${K},${K},${C},${Co}]: bpInput ${bi.toFixed(2)} ms (${(fl / bi / 1e6).toFixed(1)} GFLOP/s), Reverse ${rev.toFixed(2)}, Transpose ${tr.toFixed(2)}, fwd(new filter) ${fw.toFixed(2)}`);
  tf.dispose([dy, w, x]);
}
