/**
 * Per-kernel profile (tf.profile) of one training step on single-threaded wasm: kernel totals, then the costliest
 * convolution kernels by input shapes.
 *
 *   npx tsx lab/scripts/profile-step.ts teacher            # ResNet-50 U-Net teacher, width x0.25, x4, batch 16 of 24x24 LR
 *   npx tsx lab/scripts/profile-step.ts student [--reparam] # compact 16x6 x4 student, batch 16 of 32x32 LR, L1 on RGB
 *   npx tsx lab/scripts/profile-step.ts recipe [run.json] [--threads N] # a run config's full step (default the shipped
 *                                                         # x4 recipe, lab/runs/student-x4-luma16x8.json)
 *
 * `recipe` profiles `trainingStep`, the step `train()` runs (forward, backward, global norm, clipping, Adam, EMA), then
 * splits a step's wall time into: network kernels (tf.profile), the per-variable work (global norm, Adam, EMA), the
 * rest (JS: autodiff bookkeeping, tensor creation, tidy), and times the data pipeline (a batch of the recipe's folders
 * under SHARPEN_KD_DATA, default ../shared/data) on its own.
 *
 * For the student it then times the per-variable parts of a step that are not kernels of the network: Adam and the
 * weight EMA (host and device engines, interleaved A/B) and the global gradient norm. The input-gradient figures in
 * docs/training-on-wasm.md ("Large-channel layers") come from the teacher profile.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/core/register-gradients';
import { useBackend } from '../../src/backends/use-backend';
import { buildStudent } from '../../src/models/student';
import { buildTeacher } from '../../src/models/teacher';
import { combinedLoss, resolveLossWeights } from '../../src/losses/combined';
import { Adam, globalNorm } from '../../src/train/adam';
import { WeightEma } from '../../src/train/ema';
import { openDataset } from '../../src/data/datasets';
import { DEFAULT_RECIPE, randomBatches, readRecipe, recipeTrainer } from '../../scripts/train-recipe';

type Profile = Awaited<ReturnType<typeof tf.profile>>;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** Kernel totals (ms, calls) by name, costliest first, printed; returns the profiled kernel total. */
function kernelTable(prof: Profile, top = 24): number {
  const agg = new Map<string, { ms: number; n: number }>();
  for (const k of prof.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const a = agg.get(k.name) ?? { ms: 0, n: 0 };
    a.ms += t;
    a.n++;
    agg.set(k.name, a);
  }
  const total = [...agg.values()].reduce((s, a) => s + a.ms, 0);
  const calls = [...agg.values()].reduce((s, a) => s + a.n, 0);
  console.log(`profiled kernels: ${total.toFixed(1)} ms in ${calls} calls`);
  for (const [k, a] of [...agg.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, top)) console.log(k.padEnd(28), a.ms.toFixed(1).padStart(7), String(a.n).padStart(5));
  return total;
}

/** Kernels' totals (ms, calls) by kernel and input shapes, costliest first, printed (`SHAPES=all`: every kernel, else the convolutions). */
function convShapes(prof: Profile, top: number): void {
  const byShape = new Map<string, { ms: number; n: number }>();
  const all = process.env.SHAPES === 'all';
  for (const k of prof.kernels) {
    if (!all && !['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].includes(k.name)) continue;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const a = byShape.get(key) ?? { ms: 0, n: 0 };
    a.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    a.n++;
    byShape.set(key, a);
  }
  for (const [k, a] of [...byShape.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, top)) console.log(a.ms.toFixed(1).padStart(7), String(a.n).padStart(3), k);
}

/** The recipe's full step: wall time, kernel profile, per-variable work, data pipeline. */
async function profileRecipe(file: string): Promise<void> {
  const r = readRecipe(file);
  const t = recipeTrainer(r);
  const { batches } = randomBatches(r, 1);
  const batch = batches[0];
  const step = () => t.step(batch, 1e-4);
  for (let i = 0; i < 3; i++) step();
  const walls: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    step();
    walls.push(performance.now() - t0);
  }
  console.log(`${file}: ${t.parts.vars.length} variables; step (trainingStep) median ${median(walls).toFixed(1)} ms of 9`);
  const profs: { wall: number; kernels: number; prof: Profile }[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const prof = await tf.profile(() => void step());
    const wall = performance.now() - t0;
    profs.push({ wall, kernels: prof.kernels.reduce((s, k) => s + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0), prof });
  }
  const mid = [...profs].sort((a, b) => a.kernels - b.kernels)[1];
  const kernels = kernelTable(mid.prof);
  convShapes(mid.prof, 12);

  // The per-variable work on its own, on gradients of the right shapes.
  const gs = t.parts.vars.map((v) => tf.randomNormal(v.shape, 0, 1e-3));
  const timeIt = (f: () => void, n = 10) => {
    const ms: number[] = [];
    for (let round = 0; round < 5; round++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f();
      ms.push((performance.now() - t0) / n);
    }
    return median(ms);
  };
  const norm = timeIt(() => void globalNorm(gs).dataSync());
  const adam = timeIt(() => t.parts.adam.apply(gs, 1e-9));
  const ema = timeIt(() => t.parts.ema?.update());
  tf.dispose(gs);
  const perVar = norm + adam + ema;
  console.log(`per-variable work: globalNorm ${norm.toFixed(1)} ms, adam.apply ${adam.toFixed(1)} ms, ema.update ${ema.toFixed(1)} ms`);
  console.log(`split of a profiled step (${mid.wall.toFixed(1)} ms wall under tf.profile; median step ${median(walls).toFixed(1)} ms unprofiled):`);
  console.log(`  kernels ${kernels.toFixed(1)} ms (incl. globalNorm's), Adam + EMA ${(adam + ema).toFixed(1)} ms, the rest (JS) ${(median(walls) - kernels - adam - ema).toFixed(1)} ms`);
  console.log(`  per-variable total (globalNorm + Adam + EMA) ${perVar.toFixed(1)} ms`);

  // Data pipeline: one batch of the recipe's folders.
  const root = process.env.SHARPEN_KD_DATA ?? '../shared/data';
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: { folders?: string[] } };
  const folders = (c.data?.folders ?? []).map((f) => f.replace(/^\$SHARPEN_KD_DATA/, root));
  if (folders.length > 0 && folders.every((f) => fs.existsSync(f))) {
    const data = await openDataset(folders, { scale: r.scale, patchSize: r.patch, batchSize: r.batch, seed: 1 });
    const it = data[Symbol.asyncIterator]();
    const ms: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      const b = (await it.next()).value as { lr: tf.Tensor; hr: tf.Tensor };
      if (i >= 2) ms.push(performance.now() - t0);
      tf.dispose([b.lr, b.hr]);
    }
    console.log(`data pipeline: a batch of ${folders.length} folders, median ${median(ms).toFixed(1)} ms of 10 (after 2 warm-up batches)`);
  } else {
    console.log(`data pipeline: skipped (set SHARPEN_KD_DATA to the folder with ${folders.map((f) => f.split('/').pop()).join(', ')})`);
  }
  tf.dispose([batch.lr, batch.hr]);
  t.dispose();
}

const which = process.argv[2];
if (which !== 'student' && which !== 'teacher' && which !== 'recipe') {
  console.error('usage: npx tsx lab/scripts/profile-step.ts student|teacher [--reparam] | recipe [run.json] [--threads N]');
  process.exit(2);
}
const threadsAt = process.argv.indexOf('--threads');
await useBackend('wasm', { threads: threadsAt > 0 ? Number(process.argv[threadsAt + 1]) : 1 });
if (which === 'recipe') {
  const file = process.argv[3] && !process.argv[3].startsWith('--') ? process.argv[3] : DEFAULT_RECIPE;
  await profileRecipe(file);
  process.exit(0);
}
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
kernelTable(prof, 20);
convShapes(prof, 20);

if (which === 'student') {
  console.log(`trainable variables ${vars.length}, parameters ${vars.reduce((n, v) => n + v.size, 0)}`);
  const gs = vars.map((v) => tf.randomNormal(v.shape));
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
