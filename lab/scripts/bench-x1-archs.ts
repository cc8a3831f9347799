/**
 * Interleaved A/B of frame times at 1280×720 output: real-time ×1 (sharpening) student designs, with random weights
 * (speed does not depend on their values), against the shipped `x4` (the model the ≥ 30 fps target was first met
 * with). Every variant runs as `sharpen-kd bench` runs it (a `Student` on the default engine, whole frames through its
 * tile runner); each round runs `PER` frames of every variant in turn, so drift in machine load hits all alike. On a
 * busy machine read the ratios to `x4`, not the absolute numbers.
 *
 * Usage: npx tsx lab/scripts/bench-x1-archs.ts [rounds=6] [filter]   (filter: comma-separated parts of variant names)
 */
import * as os from 'node:os';
import { useBackend } from '../../src/backends/use-backend';
import { describeModel } from '../../src/models/describe';
import { buildStudent, type StudentOptions } from '../../src/models/student';
import { Student, studentInternals } from '../../src/infer/student';
import { interleavedTimes, timesTable } from '../../scripts/interleaved-ab';
import { rerunWithMallocTuning } from '../../src/cli/malloc-tuning';

// As `sharpen-kd bench` runs: with the CLI's malloc thresholds (src/cli/malloc-tuning.ts).
await rerunWithMallocTuning();
const ROUNDS = Number(process.argv[2] ?? 6);
const FILTER = process.argv[3]?.split(',');
const PER = 5;
const [W, H] = [1280, 720];
await useBackend('cpu');
const x1: Record<string, StudentOptions> = {
  'x1 luma 16×6, unshuffle 4 (shipped)': { width: 16, depth: 6, unshuffle: 4, detail: 'luma' },
  'x1 luma 16×6, unshuffle 4, global gates': { width: 16, depth: 6, unshuffle: 4, detail: 'luma', globalGates: true },
  'x1 luma 24×6, unshuffle 4': { width: 24, depth: 6, unshuffle: 4, detail: 'luma' },
  'x1 luma 24×8, unshuffle 4': { width: 24, depth: 8, unshuffle: 4, detail: 'luma' },
  'x1 luma 32×6, unshuffle 4': { width: 32, depth: 6, unshuffle: 4, detail: 'luma' },
  'x1 luma 32×8, unshuffle 4': { width: 32, depth: 8, unshuffle: 4, detail: 'luma' },
  'x1 luma 16×6, unshuffle 2': { width: 16, depth: 6, unshuffle: 2, detail: 'luma' },
};
const students = new Map<string, { s: Student; inW: number; inH: number; gflops: number }>();
const x4 = await Student.load('x4');
students.set('shipped x4 (reference)', { s: x4, inW: W / 4, inH: H / 4, gflops: NaN });
for (const [k, o] of Object.entries(x1).filter(([name]) => !FILTER || FILTER.some((f) => name.includes(f)))) {
  const m = buildStudent({ arch: 'compact', scale: 1, seed: 1, ...o });
  const gflops = describeModel(m, { inputSize: [H, W] }).flops / 1e9;
  students.set(`${k} (${gflops.toFixed(2)} GFLOPs)`, { s: await Student.fromModel(m), inW: W, inH: H, gflops });
}
const variants = new Map<string, () => Promise<unknown>>();
for (const [k, { s, inW, inH }] of students) {
  const frame = new Float32Array(inW * inH * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
  const { runner } = studentInternals(s);
  variants.set(`${k} [${s.info.backend}]`, () => runner.run(frame, inH, inW, 3));
}
const times = await interleavedTimes(variants, ROUNDS, PER, 3);
console.log(`${W}x${H} output, ${ROUNDS} rounds x ${PER} frames per variant, 1-min load ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`);
console.log(timesTable(times));
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const ref = med([...times.values()][0]);
for (const [k, t] of times) console.log(`${k}: ${(ref / med(t)).toFixed(2)}x the frame rate of x4`);
for (const { s } of students.values()) s.dispose();
