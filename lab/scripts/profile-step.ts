/**
 * Per-kernel profile (tf.profile) of one training step on single-threaded wasm: kernel totals, then the costliest
 * convolution kernels by input shapes.
 *
 *   npx tsx lab/scripts/profile-step.ts teacher            # ResNet-50 U-Net teacher, width x0.25, x4, batch 16 of 24x24 LR
 *   npx tsx lab/scripts/profile-step.ts student [--reparam] # shipped x4 student (compact 16x6), batch 16 of 32x32 LR
 *
 * For the student it then times the per-variable parts of a step that are not kernels of the network: Adam and the
 * weight EMA (host and device engines, interleaved A/B) and the global gradient norm. The input-gradient figures in
 * docs/training-on-wasm.md ("Large-channel layers") come from the teacher profile.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../../src/core/register-gradients';
import { useBackend } from '../../src/backends/use-backend';
import { buildStudent } from '../../src/models/student';
import { buildTeacher } from '../../src/models/teacher';
import { combinedLoss, resolveLossWeights } from '../../src/losses/combined';
import { Adam, globalNorm } from '../../src/train/adam';
import { WeightEma } from '../../src/train/ema';

const which = process.argv[2];
if (which !== 'student' && which !== 'teacher') {
  console.error('usage: npx tsx lab/scripts/profile-step.ts student|teacher [--reparam]');
  process.exit(2);
}
await useBackend('wasm');
const m =
  which === 'teacher'
    ? buildTeacher({ scale: 4, widthMultiplier: 0.25, seed: 1 })
    : buildStudent({ arch: 'compact', scale: 4, width: 16, depth: 6, reparam: process.argv.includes('--reparam'), seed: 1 });
const patch = which === 'teacher' ? 24 : 32;
const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
const adam = new Adam(vars);
const lr = tf.randomUniform([16, patch, patch, 3]) as tf.Tensor4D;
const hr = tf.randomUniform([16, 4 * patch, 4 * patch, 3]) as tf.Tensor4D;
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
for (let i = 0; i < 5; i++) step();
console.log(`step ${((performance.now() - t0) / 5).toFixed(1)} ms`);
const prof = await tf.profile(() => step());
const agg = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const a = agg.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += t;
  a.n++;
  agg.set(k.name, a);
}
const total = [...agg.values()].reduce((s, a) => s + a.ms, 0);
console.log(`profiled kernel total ${total.toFixed(1)} ms`);
for (const [k, a] of [...agg.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, 20)) console.log(k.padEnd(28), a.ms.toFixed(1).padStart(7), String(a.n).padStart(4));
const byShape = new Map<string, number>();
for (const k of prof.kernels) {
  if (!['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].includes(k.name)) continue;
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  byShape.set(key, (byShape.get(key) ?? 0) + (k.kernelTimeMs as number));
}
for (const [k, ms] of [...byShape.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(ms.toFixed(1).padStart(7), k);

if (which === 'student') {
  console.log(`trainable variables ${vars.length}, parameters ${vars.reduce((n, v) => n + v.size, 0)}`);
  const gs = vars.map((v) => tf.randomNormal(v.shape));
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  /** Interleaved A/B of the two engines: medians of 7 rounds of 10 calls (a first round warms up). */
  const ab = (label: string, run: Record<'host' | 'device', () => void>) => {
    const times = { host: [] as number[], device: [] as number[] };
    for (let round = 0; round < 8; round++) {
      for (const engine of ['host', 'device'] as const) {
        const t = performance.now();
        for (let i = 0; i < 10; i++) run[engine]();
        if (round > 0) times[engine].push((performance.now() - t) / 10);
      }
    }
    console.log(`${label}: host engine ${median(times.host).toFixed(2)} ms, device engine ${median(times.device).toFixed(2)} ms (median of 7)`);
  };
  const adams = { host: new Adam(vars, { engine: 'host' }), device: new Adam(vars, { engine: 'device' }) };
  ab('adam.apply', { host: () => adams.host.apply(gs, 1e-6), device: () => adams.device.apply(gs, 1e-6) });
  const emas = { host: new WeightEma(vars, 0.999, { engine: 'host' }), device: new WeightEma(vars, 0.999, { engine: 'device' }) };
  ab('ema.update', { host: () => emas.host.update(), device: () => emas.device.update() });
  const t1 = performance.now();
  for (let i = 0; i < 20; i++) globalNorm(gs).dispose();
  console.log(`globalNorm ${((performance.now() - t1) / 20).toFixed(2)} ms`);
}
