/**
 * Wall time of a one-image CLI call, `node dist/cli.js sharpen 64x64.png -o <dir> --scale 4`, against `node -e 0`
 * and, with `--baseline <package folder>`, the same call of another build (e.g. a worktree of an older commit after
 * its `npm run build`), interleaved: every round runs each command once. Reports the median wall time and the median
 * CPU time of each (the CPU time, read in the child at exit, is less disturbed by other work on the machine; ORT's
 * spinning threads add to it without adding to the wall time).
 *
 * Run `npm run build` first. The 64×64 PNG is generated (deterministic noise).
 *
 * Usage: npx tsx scripts/bench-cli-startup.ts [--runs 15] [--baseline ../old-checkout] [--backend auto]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSharp } from '../src/io/node-image';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, baseline: { type: 'string' }, backend: { type: 'string', default: 'auto' } },
});
const RUNS = Number(args.runs);
const cli = path.resolve('dist/cli.js');
if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-startup-'));
const png = path.join(tmp, '64x64.png');
const sharp = await loadSharp();
const noise = Buffer.from(Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 2654435761) >>> 24));
await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(png);
// Preloaded into each child: its own CPU time (all threads) on stderr at exit.
const probe = path.join(tmp, 'cpu.cjs');
fs.writeFileSync(probe, "process.on('exit', () => { const c = process.cpuUsage(); process.stderr.write(`\\n@@cpu ${(c.user + c.system) / 1000}\\n`); });\n");

const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'sharpen-kd sharpen (this build)': [cli, 'sharpen', png, '-o', path.join(tmp, 'out'), '--scale', '4', '--overwrite', '--backend', args.backend],
};
if (args.baseline) {
  commands[`sharpen-kd sharpen (${args.baseline})`] = [path.resolve(args.baseline, 'dist/cli.js'), 'sharpen', png, '-o', path.join(tmp, 'out-base'), '--scale', '4', '--overwrite', '--backend', args.backend];
}
const wall = new Map(Object.keys(commands).map((k) => [k, [] as number[]]));
const cpu = new Map(Object.keys(commands).map((k) => [k, [] as number[]]));
for (let i = 0; i < RUNS; i++) {
  for (const [k, argv] of Object.entries(commands)) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-r', probe, ...argv], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${k} failed (${r.status}): ${r.stderr}`);
    wall.get(k)!.push(ms);
    cpu.get(k)!.push(Number(/@@cpu ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN));
  }
}
const out = await sharp(path.join(tmp, 'out', '64x64.png')).metadata();
if (out.width !== 256 || out.height !== 256) throw new Error(`unexpected output size ${out.width}x${out.height}`);
fs.rmSync(tmp, { recursive: true, force: true });
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${RUNS} runs each, interleaved; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}${os.loadavg()[0] > 0.5 ? ' (busy machine: compare only within this run)' : ''}`);
console.log('| command | median wall s | median CPU s |');
console.log('|---|---|---|');
for (const k of Object.keys(commands)) console.log(`| ${k} | ${(med(wall.get(k)!) / 1000).toFixed(3)} | ${(med(cpu.get(k)!) / 1000).toFixed(3)} |`);
