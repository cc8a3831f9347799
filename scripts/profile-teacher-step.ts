/**
 * Per-kernel profile (tf.profile) of one training step of the ResNet-50 U-Net teacher (width x0.25, x4, batch 16 of
 * 24x24 LR patches) on single-threaded wasm: kernel totals, then the costliest conv kernels by input shapes. The
 * input-gradient figures in docs/training-on-wasm.md ("Session 2") come from this script.
 *
 * Usage: npx tsx scripts/profile-teacher-step.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import '../src/core/register-gradients';
import { useBackend } from '../src/backends/use-backend';
import { buildTeacher } from '../src/models/teacher';
import { combinedLoss, resolveLossWeights } from '../src/losses/combined';
import { Adam } from '../src/train/adam';
await useBackend('wasm');
const m = buildTeacher({ scale: 4, widthMultiplier: 0.25, seed: 1 });
const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
const adam = new Adam(vars);
const lr = tf.randomUniform([16, 24, 24, 3]) as tf.Tensor4D;
const hr = tf.randomUniform([16, 96, 96, 3]) as tf.Tensor4D;
const w = resolveLossWeights({ pixel: 1 });
const step = () => {
  const { grads } = tf.tidy(() => {
    const g = tf.variableGrads(() => combinedLoss({ student: m.apply(lr, { training: true }) as tf.Tensor4D, hr }, w).total, vars);
    return { grads: vars.map((v) => g.grads[v.name]) };
  });
  adam.apply(grads, 1e-4);
  tf.dispose(grads);
};
for (let i = 0; i < 2; i++) step();
const t0 = performance.now();
for (let i = 0; i < 3; i++) step();
console.log(`step ${((performance.now() - t0) / 3).toFixed(1)} ms`);
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
for (const [k, a] of [...agg.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, 16)) console.log(k.padEnd(28), a.ms.toFixed(1).padStart(7), String(a.n).padStart(4));
const rows = prof.kernels.filter((k) => k.name === 'Conv2DBackpropInput' || k.name === 'Conv2DBackpropFilter' || k.name === 'FusedConv2D').map((k) => ({ name: k.name, ms: k.kernelTimeMs as number, shapes: JSON.stringify(k.inputShapes) }));
const byShape = new Map<string, number>();
for (const r of rows) byShape.set(`${r.name} ${r.shapes}`, (byShape.get(`${r.name} ${r.shapes}`) ?? 0) + r.ms);
for (const [k, ms] of [...byShape.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(ms.toFixed(1).padStart(7), k);
