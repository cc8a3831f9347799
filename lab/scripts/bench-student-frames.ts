/**
 * Where a shipped student's frame time goes on ONNX Runtime, beyond the graph: in one process,
 *   1. the output stage returning a new array per frame against a view of its memory (`run(…, { transient: true })`,
 *      what `Student.sharpen` does), interleaved;
 *   2. garbage collection: V8's GC pauses (PerformanceObserver) that fell inside timed frames;
 *   3. drift: the median of each block of frames, blocks 300 ms apart, to tell the machine's own swings from the code.
 *
 *   npx tsx lab/scripts/bench-student-frames.ts [model, default x4] [--size 1280x720] [--rounds 20] [--blocks 8]
 *
 * Run it with nothing else busy, and with the CLI's malloc thresholds as `bench` sets them (src/cli/malloc-tuning.ts).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { rerunWithMallocTuning } from '../../src/cli/malloc-tuning';
import { Student, studentInternals } from '../../src/infer/student';
import { interleavedTimes, timesTable } from '../../scripts/interleaved-ab';

await rerunWithMallocTuning();
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '1280x720' }, rounds: { type: 'string', default: '20' }, blocks: { type: 'string', default: '8' } },
});
const name = positionals[0] ?? 'x4';
const student = await Student.load(name, { backend: 'onnx' });
const { runner } = studentInternals(student);
const [W, H] = args.size.split('x').map(Number);
const [w, h] = [W / student.scale, H / student.scale];
if (!Number.isInteger(w) || !Number.isInteger(h)) throw new Error(`${args.size} is not a multiple of the scale ${student.scale}`);
const frame = new Float32Array(3 * h * w).map((_, i) => ((i * 2654435761) >>> 24) / 255);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

// 1. New array against a view, interleaved.
const ab = await interleavedTimes(
  new Map([
    ['new array per frame', () => runner.run(frame, h, w, 3)],
    ['view (transient)', () => runner.run(frame, h, w, 3, { transient: true })],
  ]),
  Number(args.rounds),
  4,
);
console.log(`${name} at ${W}x${H} output, ${args.rounds} rounds x 4 frames, interleaved\n${timesTable(ab)}`);
console.log(`new array / view: ${(median(ab.get('new array per frame')!) / median(ab.get('view (transient)')!)).toFixed(3)}x\n`);

// 2 and 3. Blocks of transient frames, with the GC pauses that fell inside them.
const gcs: { start: number; duration: number }[] = [];
const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration }))));
observer.observe({ entryTypes: ['gc'] });
const frames: { t0: number; ms: number }[] = [];
const blockMedians: number[] = [];
for (let b = 0; b < Number(args.blocks); b++) {
  const ms: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await runner.run(frame, h, w, 3, { transient: true });
    ms.push(performance.now() - t0);
    frames.push({ t0, ms: ms[i] });
  }
  blockMedians.push(median(ms));
  await new Promise((r) => setTimeout(r, 300));
}
observer.disconnect();
const gcInFrames = frames.reduce((a, f) => a + gcs.filter((g) => g.start >= f.t0 && g.start < f.t0 + f.ms).reduce((s, g) => s + g.duration, 0), 0);
console.log(`blocks of 30 frames, 300 ms apart: medians ${blockMedians.map((m) => m.toFixed(1)).join(' ')} ms`);
console.log(`GC inside timed frames: ${(gcInFrames / frames.length).toFixed(2)} ms per frame (${frames.length} frames)`);
student.dispose();
