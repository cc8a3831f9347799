/**
 * Frame rate of the ×4 student on each inference engine, side by side: TF.js wasm (XNNPACK), TF.js cpu (plain JS)
 * and ONNX Runtime (when `onnxruntime-node` is installed), with sharp's cubic resize of the same frame as a
 * reference for what classical resampling costs on this machine.
 *
 *   npx tsx --tsconfig examples/tsconfig.json examples/benchmark.ts   # 640x360 output frames
 *   npx tsx --tsconfig examples/tsconfig.json examples/benchmark.ts --size 1280x720 --runs 20
 *   (`--tsconfig examples/tsconfig.json`: 'sharpen-kd' resolves to the built dist/, so `npm run build` first.)
 *
 * Uses the shipped `x4` student; when its weights are not installed, a freshly built student of the same
 * architecture (speed does not depend on the weight values).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BackendError, benchmarkFps, buildStudent, SharpenError, Student, useBackend, type FpsResult, type InferenceBackend } from 'sharpen-kd';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const [width, height] = (arg('--size') ?? '640x360').split('x').map(Number);
const runs = Number(arg('--runs') ?? 10);

/** The shipped x4 model name, or an untrained model of the same architecture when it is not installed. */
async function pickModel(): Promise<string | LayersModel> {
  try {
    (await Student.load('x4', { backend: 'wasm' })).dispose();
    return 'x4';
  } catch (e) {
    if (!(e instanceof SharpenError && e.code === 'E_MODEL')) throw e;
    console.warn(`! ${e.message}\n! Timing an untrained compact x4 student instead (same architecture and cost).`);
    await useBackend('wasm'); // building a model needs a TF.js backend
    return buildStudent({ arch: 'compact', scale: 4, seed: 1 });
  }
}

async function main(): Promise<void> {
  const model = await pickModel();
  const engines: InferenceBackend[] = ['onnx', 'wasm', 'cpu'];
  const rows: FpsResult[] = [];
  for (const backend of engines) {
    try {
      // plain JS is ~50x slower than wasm: fewer frames there
      const r = await benchmarkFps({ model, backend, width, height, warmup: backend === 'cpu' ? 1 : 2, runs: backend === 'cpu' ? Math.min(3, runs) : runs });
      rows.push(r);
      console.log(`${backend.padEnd(5)} ${r.msMedian.toFixed(1).padStart(8)} ms  ${r.fps.toFixed(1).padStart(7)} fps  (p95 ${r.msP95.toFixed(1)} ms)`);
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
      console.log(`${backend.padEnd(5)} not available: ${e.message}`);
    }
  }
  const first = rows[0];
  if (!first) throw new Error('no engine could run the model');
  console.log(`\nmodel ${first.model}: ${first.params} parameters, ${first.gflops.toFixed(2)} GFLOPs per ${width}x${height} output frame`);
  if (first.reference) console.log(`reference: ${first.reference.name} ${first.reference.fps.toFixed(0)} fps (libvips, all cores)`);
  if (typeof model !== 'string') model.dispose();
}

await main();
