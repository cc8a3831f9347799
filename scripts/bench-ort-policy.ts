/**
 * The ONNX Runtime thread / spinning policy measured on this machine as it is and with a background load that the
 * script starts itself: the default of `createOnnxRunner` (intra-op threads = every core, spinning on) and the
 * alternatives, for the shipped students at 1280×720 output.
 *
 * Phases, each interleaved (every round runs `per` frames of every setting in turn, so drift hits all alike):
 *   1. `as is`: whatever else runs on the machine (the load average is printed; for the idle figures, stop other
 *      work first).
 *   2. `busy`: the script starts `--load` CPU-bound processes (default: one per core), each a tight float loop that
 *      exits by itself after `--max-seconds` (default 300) even if this script dies, and kills them when done.
 * Settings: threads ∈ {every core, 1} × spinning ∈ {on, off}, through `createOnnxRunner` with the shipped
 * `model.onnx` bytes (the graph `Student.load` runs). Reported per phase: median / p10 / p90 ms per frame, fps, and
 * the median process CPU time per frame (ORT's threads included: spinning shows up there).
 *
 * The default in src/backends/onnx-runner.ts should win phase 1 on an idle machine; `spinning: false`
 * (`--spinning off`, `SHARPEN_KD_ORT_SPINNING=off`) is the documented choice when phase 2 says so.
 *
 * Usage: npx tsx scripts/bench-ort-policy.ts [--models x4,x2] [--rounds 8] [--per 5] [--load N] [--max-seconds 300]
 *          [--phases as-is,busy]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createOnnxRunner, type OnnxRunner } from '../src/backends/onnx-runner';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'x4,x2' },
    rounds: { type: 'string', default: '8' },
    per: { type: 'string', default: '5' },
    load: { type: 'string', default: String(os.availableParallelism()) },
    'max-seconds': { type: 'string', default: '300' },
    phases: { type: 'string', default: 'as-is,busy' },
  },
});
const ROUNDS = Number(args.rounds);
const PER = Number(args.per);
const cores = os.availableParallelism();
const [OUT_W, OUT_H] = [1280, 720];

/** One CPU-bound process that stops by itself after `seconds`. */
function burner(seconds: number): ChildProcess {
  const code = `const end = Date.now() + ${seconds * 1000}; let x = 1.0001; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x = x * 1.0000001 + 1e-9; } process.exit(x > 0 ? 0 : 1);`;
  const p = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  p.unref();
  return p;
}

const med = (a: number[]) => pct(a, 50);
function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const settings: { name: string; threads: number; spinning: boolean }[] = [
  { name: `threads=${cores}, spinning on (default)`, threads: cores, spinning: true },
  { name: `threads=${cores}, spinning off`, threads: cores, spinning: false },
  { name: 'threads=1, spinning on', threads: 1, spinning: true },
  { name: 'threads=1, spinning off', threads: 1, spinning: false },
];
console.log(`${os.cpus()[0]?.model ?? 'CPU'}, ${cores} vCPUs, Node ${process.version}`);

for (const name of args.models.split(',')) {
  const bytes = new Uint8Array(fs.readFileSync(path.join('models', name, 'model.onnx')));
  const scale = Number(/x(\d+)/.exec(name)?.[1] ?? 4);
  const [h, w] = [OUT_H / scale, OUT_W / scale];
  const frame = new Float32Array(h * w * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
  const runners = new Map<string, OnnxRunner>();
  for (const s of settings) runners.set(s.name, await createOnnxRunner(bytes, { threads: s.threads, spinning: s.spinning }));
  const shape = runners.values().next().value!.layout === 'nchw' ? [1, 3, h, w] : [1, h, w, 3];
  for (const phase of args.phases.split(',')) {
    const burners = phase === 'busy' ? Array.from({ length: Number(args.load) }, () => burner(Number(args['max-seconds']))) : [];
    try {
      if (burners.length) await new Promise((r) => setTimeout(r, 1000));
      const wall = new Map([...runners.keys()].map((k) => [k, [] as number[]]));
      const cpu = new Map([...runners.keys()].map((k) => [k, [] as number[]]));
      for (const r of runners.values()) for (let i = 0; i < 2; i++) await r.run(frame, shape);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [k, r] of runners) {
          for (let i = 0; i < PER; i++) {
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            await r.run(frame, shape);
            wall.get(k)!.push(performance.now() - t0);
            const c = process.cpuUsage(c0);
            cpu.get(k)!.push((c.user + c.system) / 1000);
          }
        }
      }
      const label = phase === 'busy' ? `busy (${burners.length} CPU-bound processes started by this script)` : 'as is';
      console.log(`\n${name} at ${OUT_W}x${OUT_H}, phase ${label}, load average ${os.loadavg()[0].toFixed(2)}, ${ROUNDS} rounds x ${PER} frames`);
      console.log('| setting | median ms | p10 ms | p90 ms | fps | CPU ms / frame |');
      console.log('|---|---|---|---|---|---|');
      for (const [k, t] of wall) {
        console.log(`| ${k} | ${med(t).toFixed(1)} | ${pct(t, 10).toFixed(1)} | ${pct(t, 90).toFixed(1)} | ${(1000 / med(t)).toFixed(1)} | ${med(cpu.get(k)!).toFixed(1)} |`);
      }
    } finally {
      for (const b of burners) b.kill();
    }
  }
  for (const r of runners.values()) await r.dispose();
}
