/**
 * V8's sampling profile of the training step (`trainingStep`, the step `train()` runs) of a run config on wasm: where
 * the training thread's time goes by function, the WebAssembly of the backend (XNNPACK) and of the library's kernels
 * included, and the JavaScript of TF.js and of sharpen-kd by package. Unlike `profile-step.ts` (tf.profile, kernels
 * only) it shows the JavaScript between and inside the kernels: the RepConv2D merge, Adam, the EMA, the engine.
 *
 * Usage: npx tsx lab/scripts/cpu-profile-step.ts [run.json] [--threads N] [--steps 60] [--top 30]
 *        (default the shipped x4 recipe, lab/runs/student-x4-luma16x8.json, two threads; random batches)
 */
import * as inspector from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import '../../src/core/register-gradients';
import { useBackend } from '../../src/backends/use-backend';
import { DEFAULT_RECIPE, randomBatches, readRecipe, recipeTrainer } from '../../scripts/train-recipe';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '60' }, top: { type: 'string', default: '30' } },
});
const steps = Number(args.steps);
await useBackend('wasm', { threads: Number(args.threads) });
const recipe = readRecipe(positionals[0] ?? DEFAULT_RECIPE);
const trainer = recipeTrainer(recipe);
const { batches } = randomBatches(recipe, 1);
const step = () => trainer.step(batches[0], 1e-4);
for (let i = 0; i < 10; i++) step(); // warm up (V8 tiers up the loops, XNNPACK packs its weights)

const session = new inspector.Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const wall = (performance.now() - t0) / steps;
const { profile } = await session.post('Profiler.stop');
trainer.dispose();

type Node = { id: number; callFrame: { functionName: string; url: string } };
const nodes = new Map<number, Node>(profile.nodes.map((n) => [n.id, n as Node]));
const selfUs = new Map<number, number>();
profile.samples!.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas![i] ?? 0)));
const byFunction = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url } = nodes.get(id)!.callFrame;
  const where = url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|lab|scripts)\//, '$1/');
  const key = `${functionName || '(anonymous)'} ${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
/** Where a function belongs: WebAssembly, a package, the library, or V8 itself. */
const group = (key: string) =>
  key.includes('wasm://') ? 'WebAssembly (XNNPACK and the library kernels)' : key.startsWith('(garbage collector)') ? 'garbage collector' : key.startsWith('(idle)') || key.startsWith('(program)') ? 'V8 idle / program' : (/@tensorflow\/[\w-]+/.exec(key)?.[0] ?? (/ (src|lab|scripts)\//.test(key) ? 'sharpen-kd JavaScript' : 'other JavaScript'));
const byGroup = new Map<string, number>();
for (const [key, us] of byFunction) byGroup.set(group(key), (byGroup.get(group(key)) ?? 0) + us);
const ms = (us: number) => (us / steps / 1000).toFixed(2).padStart(6);
console.log(`${positionals[0] ?? DEFAULT_RECIPE}, ${args.threads} thread(s): ${wall.toFixed(1)} ms per step (wall, ${steps} steps under the profiler), self time per step:`);
for (const [g, us] of [...byGroup].sort((a, b) => b[1] - a[1])) console.log(`${ms(us)} ms  ${g}`);
console.log(`\ncostliest functions (self time per step):`);
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) console.log(`${ms(us)} ms  ${key.slice(0, 140)}`);
