/**
 * The video pipeline's per-frame stages, timed alone and interleaved (scripts/interleaved-ab.ts), for a shipped
 * luma-detail student at 1280×720 output (default ×4, 320×180 input): ONNX Runtime on the whole graph with its I420
 * outputs (`i420-output.ts`) against the graph cut after the luma detail (`lumaDetailModel`), on one and on two
 * threads (spinning off, as `sharpenVideo` runs it); the WebAssembly output stage (`infer/luma-detail-tail.ts`, with
 * its copies in and out); and one temporal-filter step over the I420 planes (`TemporalFilter.pushPlanes`, its blend
 * in WebAssembly, and with the JavaScript blend). Run it on an idle machine.
 *
 * Usage: npx tsx lab/scripts/bench-video-stages.ts [rounds=5] [model=models/x4]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { interleavedTimes, timesTable } from '../../scripts/interleaved-ab';
import { I420_NAMES, lumaDetailModel, withI420Output } from '../../src/models/onnx/i420-output';
import { LumaDetailTail } from '../../src/infer/luma-detail-tail';
import { PlaneBlender } from '../../src/video/temporal-blend';
import { TemporalFilter } from '../../src/video/temporal-filter';
import { i420ConvWeights } from '../../src/video/yuv';

const rounds = Number(process.argv[2] ?? 5);
const modelDir = process.argv[3] ?? 'models/x4';
const ort = await import('onnxruntime-node');
const raw = new Uint8Array(fs.readFileSync(path.join(modelDir, 'model.onnx')));
const cut = lumaDetailModel(raw);
if (!cut) throw new Error(`${modelDir}/model.onnx has no luma detail`);
const s = cut.detail.scale;
const [W, H] = [1280, 720];
const [w, h] = [W / s, H / s];
const input = new Float32Array(3 * w * h).map((_, i) => ((i * 2654435761) >>> 24) / 255);
const weights = i420ConvWeights('bt709');
const x = new ort.Tensor('float32', input, [1, 3, h, w]);
const variants = new Map<string, () => Promise<unknown>>();
let detail: Float32Array = new Float32Array(0);
for (const threads of [1, 2]) {
  const opts = { graphOptimizationLevel: 'all', intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: '0' } } } } as const;
  const whole = await ort.InferenceSession.create(withI420Output(raw), opts);
  const part = await ort.InferenceSession.create(cut.model, opts);
  const feeds = { [whole.inputNames[0]]: x, [I420_NAMES.lumaWeights]: new ort.Tensor('float32', weights.luma, [1, 3, 1, 1]), [I420_NAMES.chromaWeights]: new ort.Tensor('float32', weights.chroma, [2, 3, 1, 1]) };
  detail = (await part.run({ [part.inputNames[0]]: x }))[cut.detail.tensor].data as Float32Array;
  variants.set(`whole graph → I420, ${threads} thread(s)`, () => whole.run(feeds, [I420_NAMES.i420]));
  variants.set(`graph cut after the detail, ${threads} thread(s)`, () => part.run({ [part.inputNames[0]]: x }));
}
const tail = LumaDetailTail.create()!;
variants.set('WebAssembly output stage (with copies)', async () => tail.i420(input, detail, w, h, s, weights));
// The temporal filter on a static noisy sequence of I420 frames (so it blends every frame).
const planes = [
  { offset: 0, width: W, height: H, channels: 1 },
  { offset: W * H, width: W / 2, height: H / 2, channels: 1 },
  { offset: (W * H * 5) / 4, width: W / 2, height: H / 2, channels: 1 },
];
let seed = 1;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const frameIn = new Uint8Array(w * h * 3).map(() => rnd() * 255);
const frameOut = tail.i420(input, detail, w, h, s, weights);
const noisy = (f: Uint8Array) => f.map((v) => Math.max(0, Math.min(255, v + (rnd() - 0.5) * 6)));
const inputs = Array.from({ length: 8 }, () => noisy(frameIn));
const outputs = Array.from({ length: 8 }, () => noisy(frameOut));
for (const engine of ['wasm', 'js'] as const) {
  const filter = new TemporalFilter({ strength: 0.5 });
  if (engine === 'js') {
    // The same filter with the blend's JavaScript path (what engines without WebAssembly SIMD run).
    const f = filter as unknown as { restart: (...a: unknown[]) => unknown; blender?: PlaneBlender };
    const restart = f.restart.bind(filter);
    f.restart = (...a: unknown[]) => {
      const r = restart(...a);
      const [, output, , inW, inH, , , pl] = a as [unknown, Uint8Array, unknown, number, number, unknown, unknown, typeof planes];
      f.blender = new PlaneBlender(output.length, pl, inW, inH, 'js');
      f.blender.reset(output);
      return r;
    };
  }
  let t = 0;
  variants.set(`temporal filter step (${engine === 'wasm' ? 'WebAssembly' : 'JavaScript'} blend)`, async () => {
    const k = t++ % 8;
    const out = outputs[k].slice();
    filter.pushPlanes({ data: inputs[k], width: w, height: h, channels: 3 }, out, planes, out);
  });
}
console.log(`${modelDir} ×${s}: ${w}×${h} → ${W}×${H}, ${rounds} rounds of 10 calls per variant, interleaved`);
console.log(timesTable(await interleavedTimes(variants, rounds, 10, 5)));
