/**
 * A/B of ONNX Runtime (onnxruntime-node) settings for the shipped ×4 student at 1280×720 output: ORT's own
 * thread default, intra-op threads = every core with spinning (`createOnnxRunner`'s default), one thread,
 * every core without spinning, and the layer-by-layer export (`fuseResidual: false`) against the default one
 * whose global residual is added before the pixel shuffle. Sessions are interleaved: each round runs `PER` frames on every variant in
 * turn, so drift in machine load hits all of them alike. Prints median / p10 / p95 ms and fps per variant. The
 * thread default in src/backends/onnx-runner.ts and the export default come from this script; run it on a quiet
 * machine.
 *
 * Usage: npx tsx scripts/bench-ort.ts [rounds=12] [model=models/x4]
 */
import * as os from 'node:os';
import '@tensorflow/tfjs-backend-cpu';
import { loadModel } from '../src/io/model-io';
import { modelToOnnx } from '../src/models/onnx/export';
import { interleavedTimes, timesTable } from './interleaved-ab';

const ROUNDS = Number(process.argv[2] ?? 12);
const PER = 10;
const modelDir = process.argv[3] ?? 'models/x4';
const ort = await import('onnxruntime-node');
const model = await loadModel(modelDir);
const scale = 4;
const H = 720 / scale;
const W = 1280 / scale;
const bytes = modelToOnnx(model, { layout: 'nhwc' });
const layered = modelToOnnx(model, { layout: 'nhwc', fuseResidual: false });
const cores = os.availableParallelism();
const variants: Record<string, Record<string, unknown> & { model?: Uint8Array }> = {
  'ort default': { graphOptimizationLevel: 'all' },
  [`threads=${cores}`]: { graphOptimizationLevel: 'all', intraOpNumThreads: cores },
  'threads=1': { graphOptimizationLevel: 'all', intraOpNumThreads: 1 },
  [`threads=${cores}, no spin`]: { graphOptimizationLevel: 'all', intraOpNumThreads: cores, extra: { session: { intra_op: { allow_spinning: '0' } } } },
  [`threads=${cores}, layer-by-layer export`]: { graphOptimizationLevel: 'all', intraOpNumThreads: cores, model: layered },
};
const frame = new Float32Array(H * W * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
const sessions = new Map<string, Awaited<ReturnType<typeof ort.InferenceSession.create>>>();
for (const [k, { model: m, ...v }] of Object.entries(variants)) sessions.set(k, await ort.InferenceSession.create(m ?? bytes, v));
const run = (s: Awaited<ReturnType<typeof ort.InferenceSession.create>>) => s.run({ [s.inputNames[0]]: new ort.Tensor('float32', frame, [1, H, W, 3]) });
const times = await interleavedTimes(new Map([...sessions].map(([k, s]) => [k, () => run(s)])), ROUNDS, PER);
console.log(`${modelDir} at ${W * scale}x${H * scale}, ${ROUNDS} rounds x ${PER} frames per variant, load ${os.loadavg()[0].toFixed(2)}`);
console.log(timesTable(times));
for (const s of sessions.values()) await s.release();
