/**
 * Interleaved A/B of ONNX Runtime frame times for student architectures at 1280×720 output (×4), with random
 * weights (speed does not depend on their values): the shipped ×4's architecture (compact 16×6, RGB detail, nearest
 * residual) against luma-detail variants (`detail: 'luma'`, src/models/compact.ts), each run through
 * `createOnnxRunner` (the export and session settings of `sharpen-kd bench` and `Student`). Each round runs `PER` frames of every variant in
 * turn, so drift in machine load hits all alike. Prints median / p10 / p95 ms and fps per variant. Run it on a quiet
 * machine (pause training runs: `kill -STOP <pid>`, then `kill -CONT`).
 *
 * Usage: npx tsx lab/scripts/bench-ort-archs.ts [rounds=10]
 */
import * as os from 'node:os';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createOnnxRunner, type OnnxRunner } from '../../src/backends/onnx-runner';
import { buildStudent, type StudentOptions } from '../../src/models/student';
import { interleavedTimes, timesTable } from '../../scripts/interleaved-ab';

await tf.setBackend('cpu');
const ROUNDS = Number(process.argv[2] ?? 10);
const PER = 10;
const scale = 4;
const [H, W] = [720 / scale, 1280 / scale];
const archs: Record<string, StudentOptions> = {
  'rgb 16×6 nearest (shipped x4)': {},
  'luma 16×6 bilinear': { detail: 'luma', residualInterpolation: 'bilinear' },
  'luma 16×8 bilinear': { depth: 8, detail: 'luma', residualInterpolation: 'bilinear' },
  'luma 16×8 nearest': { depth: 8, detail: 'luma' },
  'rgb 16×8 nearest': { depth: 8 },
};
const sessions = new Map<string, OnnxRunner>();
for (const [k, o] of Object.entries(archs)) {
  const m = buildStudent({ arch: 'compact', scale, seed: 1, ...o });
  sessions.set(k, await createOnnxRunner(m));
  m.dispose();
}
const frame = new Float32Array(H * W * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
const run = (s: OnnxRunner) => s.run(frame, [1, H, W, 3]);
const times = await interleavedTimes(new Map([...sessions].map(([k, s]) => [k, () => run(s)])), ROUNDS, PER);
console.log(`×4 students at ${W * scale}x${H * scale}, ${ROUNDS} rounds x ${PER} frames per variant, load ${os.loadavg()[0].toFixed(2)}`);
console.log(timesTable(times));
for (const s of sessions.values()) await s.dispose();
