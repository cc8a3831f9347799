/**
 * ONNX Runtime's own per-operator profile of a shipped student (default ×4) at 1280×720 output (the graph and session
 * settings `Student.load` uses: the shipped model.onnx — NCHW, fused residual, `target: 'ort-cpu'` —, every core,
 * spinning; `--spinning off` as third argument for the other policy): median `model_run` time and
 * each operator type's share of the node time, averaged over the frames, and the share of per-channel PReLUs' nodes. Profiling adds overhead, so the shares matter
 * more than the absolute times.
 *
 * Usage: npx tsx lab/scripts/profile-ort.ts [frames=30] [model=models/x4] [--spinning off]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const FRAMES = Number(process.argv[2] ?? 30);
const modelDir = process.argv[3] ?? 'models/x4';
const ort = await import('onnxruntime-node');
const info = JSON.parse((await import('../../src/models/onnx/proto')).readOnnxMetadata(new Uint8Array(fs.readFileSync(path.join(modelDir, 'model.onnx'))))['sharpen-kd-student'] ?? '{}') as { scale?: number };
const scale = info.scale ?? 4;
const [H, W] = [720 / scale, 1280 / scale];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-ortprof-'));
const spinning = process.argv[4] !== 'off' && process.argv[5] !== 'off';
const session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(path.join(modelDir, 'model.onnx'))), {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: os.availableParallelism(),
  enableProfiling: true,
  profileFilePrefix: path.join(dir, 'ort'),
  extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
});
const frame = new Float32Array(H * W * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
const planar = (await import('../../src/models/onnx/proto')).readOnnxMetadata(new Uint8Array(fs.readFileSync(path.join(modelDir, 'model.onnx')))).layout === 'nchw';
for (let i = 0; i < FRAMES; i++) await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', frame, planar ? [1, 3, H, W] : [1, H, W, 3]) });
session.endProfiling();
const file = path.join(dir, fs.readdirSync(dir)[0]);
type Event = { cat: string; name: string; dur: number; args?: { op_name?: string } };
const events = JSON.parse(fs.readFileSync(file, 'utf8')) as Event[];
fs.rmSync(dir, { recursive: true, force: true });
const byOp = new Map<string, number>();
let total = 0;
let prelu = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const op = e.args?.op_name ?? e.name;
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  total += e.dur;
  // The nodes of a per-channel PReLU in its ort-cpu form (depthwise conv + Relu, Add: `<layer>_prelu_…`).
  if (/_prelu_/.test(e.name)) prelu += e.dur;
}
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000).sort((a, b) => a - b);
console.log(`${modelDir} x${scale} at 1280x720, ${FRAMES} frames: model_run median ${runs[runs.length >> 1].toFixed(1)} ms (load ${os.loadavg()[0].toFixed(2)})`);
for (const [op, d] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`${op.padEnd(16)} ${(d / FRAMES / 1000).toFixed(2).padStart(6)} ms/frame ${((100 * d) / total).toFixed(1).padStart(5)}%`);
if (prelu > 0) console.log(`of which the per-channel PReLUs' nodes (depthwise conv + Relu, Add): ${(prelu / FRAMES / 1000).toFixed(2)} ms/frame, ${((100 * prelu) / total).toFixed(1)}%`);
