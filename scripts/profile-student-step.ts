/**
 * Per-kernel profile (tf.profile) of one training step of the shipped x4 student architecture (compact 16x6, batch
 * 16 of 32x32 LR patches, L1, Adam) on single-threaded wasm, then the cost of the per-variable parts of a step that
 * are not kernels of the network: Adam (both engines, interleaved), the global gradient norm and the weight EMA.
 *
 * Usage: npx tsx scripts/profile-student-step.ts [--reparam]
 */
import * as tf from '@tensorflow/tfjs-core';
import '../src/core/register-gradients';
import { useBackend } from '../src/backends/use-backend';
import { buildStudent } from '../src/models/student';
import { combinedLoss, resolveLossWeights } from '../src/losses/combined';
import { Adam } from '../src/train/adam';
await useBackend('wasm');
const reparam = process.argv.includes('--reparam');
const m = buildStudent({ arch: 'compact', scale: 4, width: 16, depth: 6, reparam, seed: 1 });
const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
const adam = new Adam(vars);
const lr = tf.randomUniform([16, 32, 32, 3]) as tf.Tensor4D;
const hr = tf.randomUniform([16, 128, 128, 3]) as tf.Tensor4D;
const w = resolveLossWeights({ pixel: 1 });
const step = () => {
  const { grads } = tf.tidy(() => {
    const g = tf.variableGrads(() => combinedLoss({ student: m.apply(lr, { training: true }) as tf.Tensor4D, hr }, w).total, vars);
    return { grads: vars.map((v) => g.grads[v.name]) };
  });
  adam.apply(grads, 1e-4);
  tf.dispose(grads);
};
for (let i = 0; i < 3; i++) step();
const t0 = performance.now();
for (let i = 0; i < 10; i++) step();
console.log(`step ${((performance.now() - t0) / 10).toFixed(1)} ms`);
const prof = await tf.profile(() => step());
const agg = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const a = agg.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += t; a.n++;
  agg.set(k.name, a);
}
const total = [...agg.values()].reduce((s, a) => s + a.ms, 0);
console.log(`profiled kernel total ${total.toFixed(1)} ms`);
for (const [k, a] of [...agg.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, 22)) console.log(k.padEnd(28), a.ms.toFixed(1).padStart(7), String(a.n).padStart(4));
const rows = prof.kernels.filter((k) => k.name.startsWith('Conv2D') || k.name === 'FusedConv2D').map((k) => ({ name: k.name, ms: k.kernelTimeMs as number, shapes: JSON.stringify(k.inputShapes) }));
const byShape = new Map<string, number>();
for (const r of rows) byShape.set(`${r.name} ${r.shapes}`, (byShape.get(`${r.name} ${r.shapes}`) ?? 0) + r.ms);
for (const [k, ms] of [...byShape.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(ms.toFixed(1).padStart(7), k);
console.log(`trainable variables ${vars.length}, parameters ${vars.reduce((n, v) => n + v.size, 0)}`);
const gs = vars.map((v) => tf.randomNormal(v.shape));
// Adam's two engines, interleaved A/B (medians of 7 rounds of 10 updates each).
const engines = { host: new Adam(vars, { engine: 'host' }), device: new Adam(vars, { engine: 'device' }) };
const times: Record<string, number[]> = { host: [], device: [] };
for (let round = 0; round < 8; round++) {
  for (const [name, opt] of Object.entries(engines)) {
    const t = performance.now();
    for (let i = 0; i < 10; i++) opt.apply(gs, 1e-6);
    if (round > 0) times[name].push((performance.now() - t) / 10);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`adam.apply: host engine ${median(times.host).toFixed(2)} ms, device engine ${median(times.device).toFixed(2)} ms (median of 7)`);
const { globalNorm } = await import('../src/train/adam');
const t1 = performance.now();
for (let i = 0; i < 20; i++) globalNorm(gs).dispose();
console.log(`globalNorm ${((performance.now() - t1) / 20).toFixed(2)} ms`);
const { WeightEma } = await import('../src/train/ema');
const emas = { host: new WeightEma(vars, 0.999, { engine: 'host' }), device: new WeightEma(vars, 0.999, { engine: 'device' }) };
const emaTimes: Record<string, number[]> = { host: [], device: [] };
for (let round = 0; round < 8; round++) {
  for (const [name, e] of Object.entries(emas)) {
    const t = performance.now();
    for (let i = 0; i < 10; i++) e.update();
    if (round > 0) emaTimes[name].push((performance.now() - t) / 10);
  }
}
console.log(`ema.update: host engine ${median(emaTimes.host).toFixed(2)} ms, device engine ${median(emaTimes.device).toFixed(2)} ms (median of 7)`);
