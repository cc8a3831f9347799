/**
 * EMT's ONNX export (src/models/onnx/convert-emt.ts) in ONNX Runtime at the shapes it runs at: teacher-cache batches
 * (16 LR patches of 32² at ×4, 48² at ×2) and one 320×180 frame (`sharpen -m emt-x4` at 1280×720). With
 * `--compare-checkout <dir>`, the same teacher exported by another checkout of sharpen-kd (its `modelToOnnx`, run in a
 * child process) is timed in the same process, interleaved (each round runs `--per` calls of each graph in turn),
 * after both are checked against TF.js on a crop of a Set5 image (max |difference| on the 0–1 scale).
 *
 * Needs the EMT checkpoints (`--teacher-weights`, default $SHARPEN_KD_TEACHERS or ../shared/teachers) and Set5
 * ($SHARPEN_KD_DATA or ../shared/data). Run it on a quiet machine (pause training runs with `kill -STOP`).
 *
 * Usage: npx tsx lab/scripts/bench-emt-onnx.ts [--scale 4] [--rounds 6] [--per 3] [--threads 2]
 *          [--compare-checkout <dir>] [--teacher-weights <dir>]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { readImage } from '../../src/io/node-image';
import { loadPretrainedTeacher } from '../../src/models/pretrained-teachers';
import { modelToOnnx } from '../../src/models/onnx/export';
import { interleavedTimes, timesTable } from '../../scripts/interleaved-ab';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '6' },
    per: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'compare-checkout': { type: 'string' },
    'teacher-weights': { type: 'string', default: process.env.SHARPEN_KD_TEACHERS ?? '../shared/teachers' },
  },
});
const scale = Number(args.scale) as 2 | 3 | 4;
const weights = path.resolve(args['teacher-weights']);
const data = process.env.SHARPEN_KD_DATA ?? '../shared/data';
await useBackend('cpu');
const teacher = await loadPretrainedTeacher(`emt-x${scale}`, { weights });
const graphs = new Map<string, Uint8Array>([['this checkout', modelToOnnx(teacher, { target: 'ort-cpu', layout: 'nhwc' })]]);
if (args['compare-checkout']) {
  const dir = path.resolve(args['compare-checkout']);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'skd-emt-onnx-')), 'emt.onnx');
  // The other checkout's exporter, in a process of its own (its modules, its custom layers).
  const src = `
    import * as fs from 'node:fs';
    const { useBackend } = await import(${JSON.stringify(path.join(dir, 'src/backends/use-backend.ts'))});
    const { loadPretrainedTeacher } = await import(${JSON.stringify(path.join(dir, 'src/models/pretrained-teachers.ts'))});
    const { modelToOnnx } = await import(${JSON.stringify(path.join(dir, 'src/models/onnx/export.ts'))});
    await useBackend('cpu');
    const t = await loadPretrainedTeacher('emt-x${scale}', { weights: ${JSON.stringify(weights)} });
    fs.writeFileSync(${JSON.stringify(out)}, modelToOnnx(t, { target: 'ort-cpu', layout: 'nhwc' }));
  `;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  graphs.set(args['compare-checkout'], new Uint8Array(fs.readFileSync(out)));
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}

const ort = await import('onnxruntime-node');
const sessions = new Map<string, Awaited<ReturnType<typeof ort.InferenceSession.create>>>();
for (const [k, g] of graphs) sessions.set(k, await ort.InferenceSession.create(g, { graphOptimizationLevel: 'all', intraOpNumThreads: Number(args.threads) }));
const run = async (k: string, x: Float32Array, shape: number[]) => {
  const s = sessions.get(k)!;
  return (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[s.outputNames[0]].data as Float32Array;
};

// Against TF.js on a natural crop (on noise, attention can flip between near-equal logits in either engine).
const img = await readImage(path.join(data, 'Set5/HR/baby.png'));
const [h, w] = [48, 40];
const crop = new Float32Array(h * w * 3);
for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) crop[(y * w + x) * 3 + c] = img.data[((y + 200) * img.width + x + 200) * img.channels + c] / 255;
const ref = tf.tidy(() => (teacher.predict(tf.tensor4d(crop, [1, h, w, 3])) as tf.Tensor).dataSync());
for (const k of graphs.keys()) {
  const y = await run(k, crop, [1, h, w, 3]);
  let d = 0;
  for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(y[i] - ref[i]));
  console.log(`${k}: max |ONNX − TF.js| ${d.toExponential(1)} on a ${w}×${h} crop of Set5 baby`);
}

const p = scale === 4 ? 32 : 48;
const shapes: [string, number[]][] = [
  [`16 patches of ${p}²`, [16, p, p, 3]],
  ['one 320×180 frame', [1, 180, 320, 3]],
];
console.log(`EMT ×${scale}, ${args.threads} ONNX Runtime threads, ${graphs.size} graph(s) interleaved, load ${os.loadavg()[0].toFixed(2)}`);
for (const [label, shape] of shapes) {
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => ((i * 2654435761) >>> 24) / 255);
  const times = await interleavedTimes(new Map([...graphs.keys()].map((k) => [k, () => run(k, x, shape)])), Number(args.rounds), Number(args.per), 1);
  console.log(`\n${label}:`);
  console.log(timesTable(times));
}
