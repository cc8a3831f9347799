/**
 * sharpen-kd's ONNX Runtime path against PyTorch on the same network, interleaved in one run.
 *
 * For each shipped student (default x4 and x2) at one OUTPUT size (default 1280×720):
 * - PyTorch: the same architecture and weights rebuilt in torch from models/<name>/model.json + weights.bin by
 *   scripts/bench_torch.py (conv kernels HWIO → OIHW), traced and `torch.jit.freeze`d (and, as a second row,
 *   `torch.jit.optimize_for_inference`), with as many threads as ONNX Runtime.
 * - sharpen-kd: `Student.load(name, { backend: 'onnx' })`'s tile runner on a whole frame (what `sharpen-kd bench` /
 *   `benchmarkFps` time), with the default thread policy (spinning on) and with spinning off; and, spinning on, with
 *   the output stage of a luma-detail student in the graph instead of in WebAssembly (`infer/luma-detail-tail.ts`).
 * Every engine runs in a process of its own (this script in `--serve` mode for ours), as PyTorch does, and reports
 * the minor page faults of each frame besides its time (the table's last three columns; docs/guide.md, Backends).
 * - onnxruntime-node on its own: the shipped `model.onnx` (the graph Student runs, planar NCHW), and the portable
 *   export (`modelToOnnx`, target 'any': PRelu kept, NHWC), each with spinning on and off.
 *
 * Before timing, the PyTorch output is compared with sharpen-kd's on a random 37×45 input (max |difference| must be
 * under 1e-4). Each round runs `per` frames of every engine in turn (PyTorch in its own process, Node waiting), so
 * drift in machine load hits all alike; each engine's turn starts with one untimed frame (ONNX Runtime's first
 * frames after another engine ran are up to 3× slower while its memory is faulted back in). The table gives median / p10 / p90 ms per frame, fps, the ratio of fps to
 * PyTorch (freeze) in the same run, GFLOP/s (describeModel's FLOPs per frame / median time) and that as a fraction
 * of the CPU's theoretical fp32 peak (scripts/cpu-peak.ts prints how it is computed). A float32 1024² matmul in
 * PyTorch is timed too. It measures PyTorch's BLAS, not its convolutions (oneDNN), and is no ceiling: Debian's
 * torch 1.13 runs it at a few GFLOP/s while it runs the students' convolutions at over 150.
 *
 * Needs python3 with torch and numpy (Debian: `apt install python3-torch`; `--python /usr/bin/python3` when another
 * python3 is first on PATH); without them it says so and exits 0. Never a dependency of sharpen-kd or its tests.
 * Run on an idle machine for publishable numbers: the load average is printed, and on a busy machine only the
 * same-run ratios mean something.
 *
 * Usage: npx tsx scripts/bench-vs-pytorch.ts [--models x4,x2] [--size 1280x720] [--rounds 8] [--per 5]
 *          [--engines student-spin,student-graph,...] [--threads N] [--python /usr/bin/python3] [--ghz G] [--flops-per-cycle F] [--json out.json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Student, studentInternals } from '../src/infer/student';
import { loadModel } from '../src/io/model-io';
import { describeModel } from '../src/models/describe';
import { modelToOnnx } from '../src/models/onnx/export';
import { readOnnxMetadata } from '../src/models/onnx/proto';
import { interleave } from '../src/infer/pixels';
import { cpuPeak } from './cpu-peak';
import { rerunWithMallocTuning } from '../src/cli/malloc-tuning';
import { defaultPython, interleavedRounds, loadLine, pct, requireTorchOrSkip, TorchHelper, type EngineRun as Run } from './torch-helper';

// TF.js (used here only to read the models and count FLOPs) advertises tfjs-node on first use: noise in a report.
const warn = console.warn.bind(console);
console.warn = (...a: unknown[]) => {
  if (typeof a[0] === 'string' && a[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...a);
};

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'x4,x2' },
    size: { type: 'string', default: '1280x720' },
    rounds: { type: 'string', default: '8' },
    per: { type: 'string', default: '5' },
    threads: { type: 'string' },
    python: { type: 'string', default: defaultPython() },
    ghz: { type: 'string' },
    'flops-per-cycle': { type: 'string' },
    json: { type: 'string' },
    serve: { type: 'string' },
    engines: { type: 'string' },
  },
});
const [outW, outH] = args.size.split('x').map(Number);
const ROUNDS = Number(args.rounds);
const PER = Number(args.per);
const threads = args.threads ? Number(args.threads) : os.availableParallelism();
const helper = path.join(path.dirname(new URL(import.meta.url).pathname), 'bench_torch.py');

/** The sharpen-kd / ONNX Runtime engines, each timed in a process of its own (as PyTorch is). */
const ENGINES = {
  'student-spin': 'sharpen-kd Student (onnx, default: spinning on)',
  'student-nospin': 'sharpen-kd Student (onnx, spinning off)',
  'student-graph': 'sharpen-kd Student (onnx, spinning on, output stage in the graph)',
  'shipped-spin': 'onnxruntime-node, shipped model.onnx, spinning on',
  'shipped-nospin': 'onnxruntime-node, shipped model.onnx, spinning off',
  'portable-spin': 'onnxruntime-node, portable export (PRelu, NHWC), spinning on',
  'portable-nospin': 'onnxruntime-node, portable export (PRelu, NHWC), spinning off',
} as const;
type EngineId = keyof typeof ENGINES;

/**
 * `--serve <engine> --models <name>`: one engine of one model in this process, answering `{ cmd: 'time', n, h, w }`
 * with the ms of `n` frames after one untimed frame (what scripts/bench_torch.py does for PyTorch). Engines share no
 * process: in one process, ONNX Runtime sessions that take turns keep faulting their output buffers back in (their
 * frames then take up to 3× as long), which a program running one model never sees.
 */
async function serve(id: EngineId, name: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const dir = path.join('models', name);
  const spin = !id.endsWith('-nospin');
  let frameRun: (frame: Float32Array, h: number, w: number) => Promise<unknown>;
  if (id.startsWith('student')) {
    // student-graph: the whole graph in ONNX Runtime, without the WebAssembly output stage (infer/luma-detail-tail.ts).
    const student = await Student.load(name, { backend: 'onnx', threads, spinning: spin, lumaDetailTail: id !== 'student-graph' });
    const { runner } = studentInternals(student);
    // As Student.sharpen runs it: the frame is read before the next call (transient), so no new output array per frame.
    frameRun = (frame, h, w) => runner.run(frame, h, w, 3, { transient: true });
  } else {
    const shipped = id.startsWith('shipped');
    const bytes = shipped ? new Uint8Array(fs.readFileSync(path.join(dir, 'model.onnx'))) : modelToOnnx(await loadModel(dir), { layout: 'nhwc' });
    const planar = shipped && readOnnxMetadata(bytes).layout === 'nchw';
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } } });
    frameRun = (frame, h, w) => session.run({ input: new ort.Tensor('float32', frame, planar ? [1, 3, h, w] : [1, h, w, 3]) });
  }
  const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ ready: true });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const req = JSON.parse(line) as { cmd: string; n: number; h: number; w: number };
    if (req.cmd === 'quit') break;
    const frame = new Float32Array(req.h * req.w * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
    await frameRun(frame, req.h, req.w);
    const ms: number[] = [];
    const faults: number[] = [];
    for (let i = 0; i < req.n; i++) {
      const f0 = process.resourceUsage().minorPageFault;
      const t0 = performance.now();
      await frameRun(frame, req.h, req.w);
      ms.push(performance.now() - t0);
      faults.push(process.resourceUsage().minorPageFault - f0);
    }
    say({ ms, faults });
  }
}

// Measured as the CLI's long commands run: with fixed glibc malloc thresholds (src/cli/malloc-tuning.ts);
// SHARPEN_KD_MALLOC_TUNING=off measures without them. The engines' processes inherit the setting.
if (!args.serve) await rerunWithMallocTuning();

if (args.serve) {
  if (!(args.serve in ENGINES)) throw new Error(`--serve: one of ${Object.keys(ENGINES).join(', ')}`);
  await serve(args.serve as EngineId, args.models);
  process.exit(0);
}

requireTorchOrSkip(args.python);

await tf.setBackend('cpu');
const peak = cpuPeak({ ghz: args.ghz ? Number(args.ghz) : undefined, flopsPerCycle: args['flops-per-cycle'] ? Number(args['flops-per-cycle']) : undefined });
const usedCores = Math.min(threads, peak.cores);
const peakUsed = (peak.gflops / peak.cores) * usedCores;
console.log(`${peak.model}, ${os.availableParallelism()} vCPUs, Node ${process.version}, onnxruntime-node ${(await import('onnxruntime-node/package.json', { with: { type: 'json' } })).default.version}, ${threads} thread(s) per engine`);
console.log(`fp32 peak: ${peak.how}; with ${threads} thread(s): ${usedCores} core(s) = ${peakUsed.toFixed(1)} GFLOP/s`);
console.log(`load average at start: ${loadLine(os.loadavg())}`);
console.log(`glibc malloc: ${process.env.GLIBC_TUNABLES ? `GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}` : 'default thresholds'}`);

const report: Record<string, unknown>[] = [];
let sgemm: number | undefined;

for (const name of args.models.split(',')) {
  const dir = path.join('models', name);
  const student = await Student.load(name, { backend: 'onnx', threads });
  const s = student.scale;
  const [h, w] = [outH / s, outW / s];
  if (!Number.isInteger(h) || !Number.isInteger(w)) throw new Error(`${args.size} is not a multiple of ${s}`);
  const model = await loadModel(dir);
  const flops = describeModel(model, { inputSize: [h, w] }).flops;
  const torch = new TorchHelper(args.python, [helper, '--model-dir', dir, '--threads', String(threads)]);
  const hello = await torch.next();

  // Same output?
  const vh = 37;
  const vw = 45;
  const vx = new Float32Array(vh * vw * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-vs-torch-'));
  fs.writeFileSync(path.join(tmp, 'in.f32'), Buffer.from(vx.buffer));
  const v = await torch.ask({ cmd: 'verify', input: path.join(tmp, 'in.f32'), shape: [1, vh, vw, 3], output: path.join(tmp, 'out.f32') });
  const ty = new Float32Array(new Uint8Array(fs.readFileSync(path.join(tmp, 'out.f32'))).buffer);
  // The Student's runner may take planar (NCHW) tiles: compare in PyTorch's NHWC.
  const planar = studentInternals(student).runner.layout === 'nchw';
  const sy0 = await studentInternals(student).runner.run(planar ? interleave(vx, vh * vw, true) : vx, vh, vw, 3);
  const sy = planar ? interleave(sy0, vh * vw * s * s) : sy0;
  fs.rmSync(tmp, { recursive: true, force: true });
  let maxDiff = ty.length === sy.length ? 0 : Infinity;
  for (let i = 0; i < sy.length && maxDiff !== Infinity; i++) maxDiff = Math.max(maxDiff, Math.abs(ty[i] - sy[i]));
  console.log(`\n${name}: PyTorch ${String(hello.torch)} (${String(hello.threads)} threads, mkldnn ${String(hello.mkldnn)}) vs sharpen-kd on a ${vw}x${vh} input: max |difference| ${maxDiff.toExponential(2)} (jit vs eager: ${JSON.stringify(v.maxAbsDiffJit)})`);
  if (!(maxDiff < 1e-4)) throw new Error(`${name}: PyTorch and sharpen-kd disagree (max |difference| ${maxDiff}): not timing different networks`);

  // Minor page faults per timed frame, by engine (each process counts its own).
  const faultsBy = new Map<string, number[]>();
  const timed = (label: string, ask: () => Promise<Record<string, unknown>>): [string, Run] => [
    label,
    async () => {
      const r = await ask();
      faultsBy.set(label, [...(faultsBy.get(label) ?? []), ...(r.faults as number[])]);
      return r.ms as number[];
    },
  ];
  const torchRun = (label: string, variant: string) => timed(label, () => torch.ask({ cmd: 'time', variant, n: PER, h, w }));
  student.dispose();
  const self = new URL(import.meta.url).pathname;
  const helpers = new Map<EngineId, TorchHelper>();
  const ids = (args.engines ? args.engines.split(',') : Object.keys(ENGINES)) as EngineId[];
  for (const id of ids) if (!(id in ENGINES)) throw new Error(`--engines: names from ${Object.keys(ENGINES).join(', ')}`);
  for (const id of ids) {
    const hp = new TorchHelper(process.execPath, ['--import', 'tsx', self, '--serve', id, '--models', name, '--threads', String(threads)]);
    await hp.next();
    helpers.set(id, hp);
  }
  const engines = new Map<string, Run>([
    torchRun('PyTorch, torch.jit.freeze', 'freeze'),
    torchRun('PyTorch, torch.jit.optimize_for_inference', 'optimize'),
    ...[...helpers].map(([id, hp]) => timed(ENGINES[id], () => hp.ask({ cmd: 'time', n: PER, h, w }))),
  ]);
  const times = await interleavedRounds(engines, ROUNDS);
  sgemm ??= (await torch.ask({ cmd: 'sgemm', n: 1024, reps: 20 })).gflops as number;
  torch.quit();

  const ref = pct(times.get('PyTorch, torch.jit.freeze')!, 50);
  console.log(`${name} (x${s}) at ${outW}x${outH} output (${w}x${h} input), ${(flops / 1e9).toFixed(2)} GFLOP/frame, ${ROUNDS} rounds x ${PER} frames, load average now ${os.loadavg()[0].toFixed(2)}`);
  // A frame that faulted in a megabyte or more (256 pages) paid for memory the process had given back; ONNX Runtime in
  // Node does so in bursts of ~2700 faults (one float RGB output frame at 1280×720) on some machines, PyTorch not.
  const FAULTED = 256;
  const steadyOf = (k: string, t: number[]) => t.filter((_, i) => (faultsBy.get(k)?.[i] ?? 0) < FAULTED);
  const steadyRef = pct(steadyOf('PyTorch, torch.jit.freeze', times.get('PyTorch, torch.jit.freeze')!), 50);
  console.log('| engine | median ms | p10 ms | p90 ms | fps | × PyTorch fps | GFLOP/s | % of fp32 peak | frames faulting ≥ 1 MB in | median ms of the others | × PyTorch, those |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [k, t] of times) {
    const med = pct(t, 50);
    const gfs = flops / 1e9 / (med / 1000);
    const steady = steadyOf(k, t);
    const faulted = 1 - steady.length / t.length;
    const steadyMed = steady.length ? pct(steady, 50) : NaN;
    console.log(
      `| ${k} | ${med.toFixed(1)} | ${pct(t, 10).toFixed(1)} | ${pct(t, 90).toFixed(1)} | ${(1000 / med).toFixed(1)} | ${(ref / med).toFixed(2)} | ${gfs.toFixed(0)} | ${((100 * gfs) / peakUsed).toFixed(0)}% | ${(100 * faulted).toFixed(0)}% | ${steadyMed.toFixed(1)} | ${(steadyRef / steadyMed).toFixed(2)} |`,
    );
    report.push({ model: name, engine: k, msMedian: med, msP10: pct(t, 10), msP90: pct(t, 90), fps: 1000 / med, vsPytorch: ref / med, gflops: gfs, peakFraction: gfs / peakUsed, faultedFraction: faulted, msMedianUnfaulted: steadyMed, vsPytorchUnfaulted: steadyRef / steadyMed });
  }
  for (const hp of helpers.values()) hp.quit();
  model.dispose();
}
console.log(`\nPyTorch float32 1024² matmul (its BLAS, not the oneDNN convolutions above), ${threads} thread(s): ${sgemm?.toFixed(0)} GFLOP/s (${((100 * (sgemm ?? 0)) / peakUsed).toFixed(0)}% of the computed peak)`);
if (args.json) fs.writeFileSync(args.json, JSON.stringify({ cpu: peak, threads, loadAverage: os.loadavg(), sgemmGflops: sgemm, rows: report }, null, 2));
