/**
 * A student training step on sharpen-kd's wasm path against the same step in PyTorch, interleaved in one run.
 *
 * The student, loss and step settings come from a run config (default the shipped x4 recipe,
 * lab/runs/student-x4-luma16x8.json: compact 16×8, re-parameterized, luma detail, bilinear residual, L1 on Y,
 * batch 16 of 32×32 LR patches, clip 1, EMA 0.999). One step is forward, backward, global-norm clipping, Adam and
 * the weight EMA, with the loss and gradient norm read back:
 * - sharpen-kd: `trainingStep` (src/train/step.ts, the step `train()` runs) on the wasm backend with the training
 *   kernels, `--threads` XNNPACK threads;
 * - PyTorch: scripts/bench_torch_train.py, the same network (the re-parameterized branches merged on every call, as
 *   RepConv2D does), the same loss, `clip_grad_norm_`, `torch.optim.Adam` and EMA, `torch.set_num_threads(--threads)`.
 *
 * Before timing, PyTorch loads the TF.js initial weights and both run the same 3 steps on the same batches: the losses
 * and the EMA weight sum must agree to 1e-4 relative, the first gradient norm to 1e-4 and the later ones to 1e-2 (else
 * it stops: not the same training). Then each round runs `--per` steps of each engine in turn (PyTorch in its own
 * process, Node waiting), so load drift hits both alike; the data pipeline is not timed (fixed batches on both sides).
 * Prints median / p10 / p90 ms per step, steps/s, median process CPU ms per step (steadier than wall time when other
 * jobs compete for the cores) and the same-run ratios, with the load average: on a busy machine only the ratios mean
 * something.
 *
 * Needs python3 with torch and numpy (Debian: `apt install python3-torch`; `--python /usr/bin/python3` when another
 * python3 is first on PATH); without them it says so and exits 0. Never a dependency of sharpen-kd or its tests.
 *
 * `--compare <dir>` adds a third engine: the same step of another checkout of sharpen-kd (its copy of this script in
 * `--serve` mode, in its own process), interleaved in the same rounds: a before/after A/B in one run. `--compare .
 * --compare-threads 1` compares this checkout's step on two thread counts. `--torch-threads` sets PyTorch's threads
 * (default `--threads`).
 *
 * `--no-pytorch` times sharpen-kd alone (with `--compare`, an A/B of two checkouts); a recipe with a pixel-unshuffle
 * front end (the ×1 student, `lab/runs/student-x1-blind.json`) implies it, since the PyTorch side has none.
 *
 * Usage: npx tsx scripts/bench-train-vs-pytorch.ts [--threads 1|2] [--torch-threads n] [--rounds 8] [--per 5] [--compare-threads n]
 *          [--recipe lab/runs/student-x4-luma16x8.json] [--python /usr/bin/python3] [--compare <checkout>] [--no-pytorch]
 *          [--json out.json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backends/use-backend';
import type { PatchBatch } from '../src/data/types';
import { defaultPython, interleavedRounds, loadLine, pct, requireTorchOrSkip, TorchHelper, type EngineRun } from './torch-helper';
import { DEFAULT_RECIPE, randomBatches, readRecipe, recipeTrainer } from './train-recipe';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    'torch-threads': { type: 'string' },
    'compare-threads': { type: 'string' },
    rounds: { type: 'string', default: '8' },
    per: { type: 'string', default: '5' },
    recipe: { type: 'string', default: DEFAULT_RECIPE },
    python: { type: 'string', default: defaultPython() },
    compare: { type: 'string' },
    serve: { type: 'boolean', default: false },
    pytorch: { type: 'boolean', default: true },
    json: { type: 'string' },
  },
  allowNegative: true,
});
const threads = Number(args.threads);
const torchThreads = Number(args['torch-threads'] ?? threads);
const compareThreads = Number(args['compare-threads'] ?? threads);
if (!(torchThreads >= 1 && compareThreads >= 1)) throw new Error('--torch-threads and --compare-threads must be positive');
const ROUNDS = Number(args.rounds);
const PER = Number(args.per);
if (!(threads >= 1 && ROUNDS >= 1 && PER >= 1)) throw new Error('--threads, --rounds and --per must be positive');
const recipe = readRecipe(args.recipe);

/** The step timed: wall and process CPU ms of each of `n` steps on a fixed batch. */
const timer = (trainer: ReturnType<typeof recipeTrainer>, batch: PatchBatch) => (n: number) => {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const [t0, c0] = [performance.now(), process.cpuUsage()];
    trainer.step(batch, 1e-4);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  return { ms, cpuMs };
};

if (args.serve) {
  // Served to another checkout's run of this script (--compare): answers {"cmd": "time", "n": k} with k step times.
  await useBackend('wasm', { threads });
  const trainer = recipeTrainer(recipe);
  const time = timer(trainer, randomBatches(recipe, 1, 2).batches[0]);
  process.stdout.write(`${JSON.stringify({ ready: true, commit: process.env.SHARPEN_KD_COMMIT ?? null })}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const req = JSON.parse(line) as { cmd: string; n?: number };
    if (req.cmd === 'quit') break;
    process.stdout.write(`${JSON.stringify(req.cmd === 'time' ? time(req.n ?? 1) : { error: `unknown command ${req.cmd}` })}\n`);
  }
  process.exit(0);
}

const usePytorch = args.pytorch && recipe.model.unshuffle === 1;
if (args.pytorch && !usePytorch) console.log('the PyTorch side has no pixel-unshuffle front end: timing sharpen-kd only');
if (usePytorch) requireTorchOrSkip(args.python);
else if (!args.compare) console.log('(no --compare: sharpen-kd alone)');
await useBackend('wasm', { threads });
const load0 = os.loadavg();
console.log(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} vCPUs, Node ${process.version}; sharpen-kd ${threads} wasm thread(s), PyTorch ${torchThreads}`);
console.log(`load average at start: ${loadLine(load0)}`);
const m = recipe.model;
console.log(
  `${path.basename(recipe.file)}: ${m.arch} ${m.width}x${m.depth}${m.unshuffle > 1 ? `, unshuffle ${m.unshuffle}` : ''}${m.reparam ? ' reparam' : ''}, ${m.detail} detail, ${m.residualInterpolation} residual, x${recipe.scale}; ` +
    `${recipe.weights.pixelKind} on ${recipe.weights.pixelSpace}; batch ${recipe.batch} of ${recipe.patch}x${recipe.patch}; clip ${recipe.clip}, EMA ${recipe.ema}`,
);

const ours = recipeTrainer(recipe);
let torch: TorchHelper | undefined;
let [lossDiff, normDiff, emaDiff] = [NaN, NaN, NaN];
if (usePytorch) {
  const helper = path.join(path.dirname(new URL(import.meta.url).pathname), 'bench_torch_train.py');
  const torchConfig = { scale: recipe.scale, ...m, interpolation: m.residualInterpolation, batch: recipe.batch, patch: recipe.patch, pixelSpace: recipe.weights.pixelSpace, clip: recipe.clip, ema: recipe.ema };
  if (recipe.weights.ssim > 0 || recipe.weights.pixelKind !== 'l1') throw new Error('the PyTorch side implements the L1 pixel loss only');
  torch = new TorchHelper(args.python, [helper, '--config', JSON.stringify(torchConfig), '--threads', String(torchThreads)]);
  const hello = await torch.next();

  // Same training? Same initial weights, three steps on the same batches.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-train-vs-torch-'));
  const manifest = ours.parts.vars.map((v, i) => [ours.student.trainableWeights[i].name, v.shape]);
  const flat = tf.tidy(() => tf.concat(ours.parts.vars.map((v) => tf.reshape(v, [-1]))).dataSync() as Float32Array);
  fs.writeFileSync(path.join(tmp, 'w.f32'), Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
  await torch.ask({ cmd: 'init', weights: path.join(tmp, 'w.f32'), manifest });
  const check = randomBatches(recipe, 3);
  fs.writeFileSync(path.join(tmp, 'lr.f32'), Buffer.from(check.lr.buffer));
  fs.writeFileSync(path.join(tmp, 'hr.f32'), Buffer.from(check.hr.buffer));
  const theirs = await torch.ask({ cmd: 'steps', lr: path.join(tmp, 'lr.f32'), hr: path.join(tmp, 'hr.f32'), batches: 3, rate: recipe.lr });
  fs.rmSync(tmp, { recursive: true, force: true });
  const mine = check.batches.map((b) => ours.step(b, recipe.lr));
  const emaSum = ours.parts.ema ? ours.parts.ema.getState().values.reduce((s, a) => s + a.reduce((x, y) => x + y, 0), 0) : 0;
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
  lossDiff = Math.max(...mine.map((o, i) => rel(o.loss, (theirs.loss as number[])[i])));
  const normDiffs = mine.map((o, i) => rel(o.gradNorm, (theirs.gradNorm as number[])[i]));
  normDiff = Math.max(...normDiffs);
  emaDiff = rel(emaSum, theirs.emaSum as number);
  console.log(`PyTorch ${String(hello.torch)} (${String(hello.threads)} threads), ${String(hello.variables)} variables / ${String(hello.parameters)} parameters on both sides`);
  console.log('same 3 steps from the same weights and batches, sharpen-kd / PyTorch:');
  console.log(`  losses ${mine.map((o, i) => `${o.loss.toFixed(5)} / ${(theirs.loss as number[])[i].toFixed(5)}`).join(', ')}; gradient norms ${mine.map((o, i) => `${o.gradNorm.toFixed(5)} / ${(theirs.gradNorm as number[])[i].toFixed(5)}`).join(', ')}`);
  console.log(`  max relative difference: loss ${lossDiff.toExponential(1)}, first gradient norm ${normDiffs[0].toExponential(1)}, later ones ${normDiff.toExponential(1)}, EMA weight sum ${emaDiff.toExponential(1)}`);
  tf.dispose(check.batches.flatMap((b) => [b.lr, b.hr]));
  // The first step starts from equal weights; after it, L1's sign gradient flips at a few pixels whose error is near 0,
  // which moves the (by then small) later gradient norms by up to ~1e-3.
  if (!(lossDiff < 1e-4 && normDiffs[0] < 1e-4 && normDiff < 1e-2 && emaDiff < 1e-4)) throw new Error('PyTorch and sharpen-kd train differently: not timing the same step');
}

const timed = randomBatches(recipe, 1, 2).batches[0];
const time = timer(ours, timed);
// Wall times go through interleavedRounds; process CPU times (steadier on a loaded machine: no waiting for a core) are
// collected beside them.
const cpu = new Map<string, number[]>();
const withCpu = (name: string, run: () => Promise<{ ms: number[]; cpuMs: number[] }>): [string, EngineRun] => [
  name,
  async () => {
    const r = await run();
    cpu.set(name, [...(cpu.get(name) ?? []), ...r.cpuMs]);
    return r.ms;
  },
];
const [OURS, TORCH] = [`sharpen-kd wasm (trainingStep), ${threads} thread(s)`, `PyTorch (eager, torch.optim.Adam), ${torchThreads} thread(s)`];
const engines = new Map<string, EngineRun>([withCpu(OURS, async () => time(PER))]);
if (torch) engines.set(...withCpu(TORCH, async () => (await torch!.ask({ cmd: 'time', n: PER })) as { ms: number[]; cpuMs: number[] }));
let other: TorchHelper | undefined;
const OTHER = `sharpen-kd wasm, ${args.compare}, ${compareThreads} thread(s)`;
if (args.compare) {
  const dir = path.resolve(args.compare);
  other = new TorchHelper(process.execPath, ['--import', 'tsx', path.join(dir, 'scripts', 'bench-train-vs-pytorch.ts'), '--serve', '--threads', String(compareThreads), '--recipe', path.resolve(recipe.file)], dir);
  await other.next();
  engines.set(...withCpu(OTHER, async () => (await other!.ask({ cmd: 'time', n: PER })) as { ms: number[]; cpuMs: number[] }));
}
const numTensors = tf.memory().numTensors;
const times = await interleavedRounds(engines, ROUNDS);
// The warm-up run's CPU times are not in the wall times: drop them too.
for (const [k, c] of cpu) cpu.set(k, c.slice(PER));
if (tf.memory().numTensors !== numTensors) throw new Error(`the step leaked ${tf.memory().numTensors - numTensors} tensors`);
torch?.quit();
other?.quit();
tf.dispose([timed.lr, timed.hr]);
ours.dispose();

// Median wall and CPU ms of an engine, and the ratio of two engines' steps/s.
const med = (k: string) => ({ wall: pct(times.get(k)!, 50), cpu: pct(cpu.get(k)!, 50) });
const speedup = (fast: string, slow: string) => ({ wall: med(slow).wall / med(fast).wall, cpu: med(slow).cpu / med(fast).cpu });
const vsTorch = torch ? speedup(TORCH, OURS) : undefined;
console.log(`\n${ROUNDS} rounds x ${PER} steps, interleaved; load average now ${loadLine(os.loadavg())}`);
console.log('| engine | median ms | p10 ms | p90 ms | steps/s | median CPU ms |');
console.log('|---|---|---|---|---|---|');
for (const [k, t] of times) console.log(`| ${k} | ${pct(t, 50).toFixed(1)} | ${pct(t, 10).toFixed(1)} | ${pct(t, 90).toFixed(1)} | ${(1000 / pct(t, 50)).toFixed(1)} | ${pct(cpu.get(k)!, 50).toFixed(1)} |`);
if (vsTorch) console.log(`\nPyTorch steps/s / sharpen-kd steps/s: ${vsTorch.wall.toFixed(2)} wall, ${vsTorch.cpu.toFixed(2)} CPU time (same run)`);
if (other) {
  if (torch) {
    const r = speedup(TORCH, OTHER);
    console.log(`PyTorch steps/s / ${args.compare} steps/s: ${r.wall.toFixed(2)} wall, ${r.cpu.toFixed(2)} CPU time`);
  }
  const r = speedup(OURS, OTHER);
  console.log(`this checkout is ${r.wall.toFixed(2)}x as fast as ${args.compare} (wall), ${r.cpu.toFixed(2)}x (CPU time)`);
}
if (args.json) {
  const rows = [...times].map(([engine, t]) => ({ engine, msMedian: pct(t, 50), msP10: pct(t, 10), msP90: pct(t, 90), stepsPerSec: 1000 / pct(t, 50), cpuMsMedian: pct(cpu.get(engine)!, 50) }));
  fs.writeFileSync(args.json, JSON.stringify({ recipe: recipe.file, threads, torchThreads, loadAverage: { start: load0, end: os.loadavg() }, ratio: vsTorch?.wall, cpuRatio: vsTorch?.cpu, check: { lossDiff, normDiff, emaDiff }, rows }, null, 2));
}
