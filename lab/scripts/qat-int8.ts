/**
 * Quantization-aware fine-tuning of a shipped student for the int8 graph of `src/models/onnx/quantize-int8.ts`.
 *
 * Post-training int8 costs the shipped students 0.09–0.27 dB (`scripts/bench-int8.ts`). This script fine-tunes the
 * float weights *through* the int8 graph, so that they fit its rounding:
 *
 * 1. Ranges: the float model's graph (`studentOnnxGraph`, the `ort-cpu` form) is calibrated on LR crops of T91 and
 *    BSDS200 (`calibrate-int8.ts`, `--method`). These ranges stay fixed: training and the exported graph use the same
 *    scales and zero points.
 * 2. Training: the forward pass simulates the int8 graph tensor by tensor, in TF.js on wasm:
 *    - the image input at 1/255 steps;
 *    - every conv kernel per output channel, symmetric (`quantizeWeights`: max|w| / 127), straight-through;
 *    - every tensor the int8 plan quantizes (conv outputs, the PReLU's negative branch after its Relu, the PReLU's sum,
 *      the sign flip of a layer with a slope above 1), with the graph's own scale and zero point
 *      (`activationParams`), straight-through inside the range and zero gradient outside;
 *    - the pixel shuffle and residual in float (the model's own layers), as the int8 graph keeps them.
 *    Loss: L1 on Y against the HR patch. Adam, cosine from `--lr` to 0 over `--steps`, batches of `--batch` LR
 *    patches of `--patch`² from T91, BSDS200, Kodak24 and McMaster (the training folders; flips and rotations).
 * 3. Export: the fine-tuned model's float graph, and its int8 graph with the fixed ranges.
 * 4. Scores (Set5, Set14; `Student.load(folder, { backend: 'onnx' })` + `evaluateStudent`, the `eval` path): the
 *    shipped float graph, its post-training int8 graph (same ranges), and the fine-tuned int8 graph.
 *
 * Before training, the simulation is checked against ONNX Runtime's int8 session on one calibration crop (mean and
 * max absolute difference of the outputs).
 *
 * Usage: npx tsx lab/scripts/qat-int8.ts --model x2 [--steps 3000] [--lr 1e-5] [--method percentile] [--batch 16]
 *   [--patch 48] [--threads 1] [--out <dir>] [--seed 11]
 * `--out` keeps the fine-tuned model folders (`float/`, `int8/`); the default is a temporary folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createOnnxRunner } from '../../src/backends/onnx-runner';
import { useBackend } from '../../src/backends/use-backend';
import { imageFolderDataset } from '../../src/data/datasets';
import { evaluateStudent, evaluateUpscaler } from '../../src/infer/evaluate';
import { builtinModelLocation } from '../../src/infer/registry';
import { Student } from '../../src/infer/student';
import { studentOnnxGraph } from '../../src/infer/student-onnx-build';
import { modelSourceHash, STUDENT_ONNX_FILE } from '../../src/infer/student-onnx';
import { loadModel, saveModel } from '../../src/io/model-io';
import { rgbToY } from '../../src/metrics/y-channel';
import { calibrationHistograms, calibrationInputs, rangesFrom } from '../../src/models/onnx/calibrate-int8';
import { encodeOnnxModel, type OnnxGraph } from '../../src/models/onnx/onnx-model';
import { activationParams, planInt8, quantizeGraphInt8, type RangeMethod, type TensorRange } from '../../src/models/onnx/quantize-int8';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'x2' },
    steps: { type: 'string', default: '3000' },
    lr: { type: 'string', default: '1e-5' },
    method: { type: 'string', default: 'percentile' },
    batch: { type: 'string', default: '16' },
    patch: { type: 'string', default: '48' },
    threads: { type: 'string', default: '1' },
    seed: { type: 'string', default: '11' },
    out: { type: 'string' },
    sensitivity: { type: 'boolean', default: false },
  },
});
const DATA = process.env.SHARPEN_KD_DATA ?? path.resolve('../shared/data');
const threads = Number(args.threads);
const steps = Number(args.steps);
const out = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'skd-qat-'));
await useBackend('wasm', { threads });

const src = await builtinModelLocation(args.model as 'x2');
const model = await loadModel(src);
const floatExport = await studentOnnxGraph(model, await modelSourceHash(src));
const scale = JSON.parse(floatExport.encode.metadata['sharpen-kd-student']).scale as number;

// 1. Fixed ranges from the float graph.
let t0 = performance.now();
const calib = await calibrationInputs([`${DATA}/T91/HR`, `${DATA}/BSDS200/HR`], scale, { limit: 291 });
const ranges = rangesFrom(await calibrationHistograms(floatExport.graph, calib, { threads: 2 }), args.method as RangeMethod);
console.log(`calibration: ${calib.length} crops, ${ranges.size} tensors, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const plan = planInt8(floatExport.graph);
const params = (t: string) => {
  let r: TensorRange | undefined = plan.fixed.get(t) ?? ranges.get(t);
  if (!r) throw new Error(`no range for ${t}`);
  if (plan.nonNegative.has(t)) r = { min: 0, max: r.max };
  return activationParams(r, 'uint8');
};

/** Tensors (and `'weights'`) the simulation leaves in float (`--sensitivity`). */
const float = new Set<string>();

/** Fake quantization of a tensor with the graph's uint8 parameters of `name`: straight-through inside the range. */
function fq(name: string, x: tf.Tensor): tf.Tensor {
  if (float.has(name)) return x;
  const { scale: s, zeroPoint: zp } = params(name);
  const [lo, hi] = [(0 - zp) * s, (255 - zp) * s];
  const op = tf.customGrad((...a: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = a[0] as tf.Tensor;
    (a[1] as tf.GradSaveFunc)([v]);
    const value = tf.tidy(() => tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(v, s)), zp), 0, 255), zp), s));
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.tidy(() => tf.mul(dy as tf.Tensor, tf.cast(tf.logicalAnd(tf.greaterEqual(saved[0], lo), tf.lessEqual(saved[0], hi)), 'float32'))) };
  });
  return op(x);
}

/** Per-output-channel symmetric int8 rounding of an HWIO kernel (as `quantizeWeights`), straight-through. */
function fqKernel(w: tf.Tensor): tf.Tensor {
  if (float.has('weights')) return w;
  const op = tf.customGrad((...a: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = a[0] as tf.Tensor;
    const value = tf.tidy(() => {
      const m = tf.max(tf.abs(v), [0, 1, 2], true);
      const s = tf.where(tf.greater(m, 0), tf.div(m, 127), tf.onesLike(m));
      return tf.mul(tf.clipByValue(tf.round(tf.div(v, s)), -127, 127), s);
    });
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[]) => (dy as tf.Tensor).clone() };
  });
  return op(w);
}

// The body: conv layers, each optionally followed by a PReLU, then the float tail (pixel shuffle, residual).
interface Stage {
  conv: string;
  kernel: tf.Variable;
  bias: tf.Variable;
  prelu?: { name: string; alpha: tf.Variable; layer: tfl.layers.Layer };
  layer: tfl.layers.Layer;
}
const stages: Stage[] = [];
const layers = model.layers;
for (let i = 0; i < layers.length; i++) {
  const l = layers[i];
  if (l.getClassName() !== 'Conv2D') continue;
  const [k, b] = l.getWeights();
  const st: Stage = { conv: l.name, layer: l, kernel: tf.variable(k.clone()), bias: tf.variable(b.clone()) };
  const next = layers[i + 1];
  if (next?.getClassName() === 'PReLU') st.prelu = { name: next.name, layer: next, alpha: tf.variable(tf.reshape(next.getWeights()[0], [-1])) };
  stages.push(st);
}
const tail = layers.slice(layers.findIndex((l) => l.name === stages.at(-1)!.conv) + 1);
console.log(`${stages.length} convs, tail: ${tail.map((l) => l.getClassName()).join(' → ')}`);
const variables = stages.flatMap((s) => [s.kernel, s.bias, ...(s.prelu ? [s.prelu.alpha] : [])]);

/** The int8 graph simulated in float: NHWC input in [0, 1] → NHWC output. */
function forward(x: tf.Tensor4D): tf.Tensor4D {
  let h: tf.Tensor = fq('input', x);
  for (const s of stages) {
    const z = fq(s.conv, tf.add(tf.conv2d(h as tf.Tensor4D, fqKernel(s.kernel) as tf.Tensor4D, 1, 'same'), s.bias));
    if (!s.prelu) {
      h = z;
      continue;
    }
    const p = s.prelu.name;
    const a = s.prelu.alpha;
    const mixed = plan.tensors.includes(`${p}_signed`);
    // ort-cpu form (`rewritePreluForNchwc`): z + relu((a − 1)·z), or z − relu((1 − a)·z) per channel in a mixed layer.
    const above = tf.tensor1d(Array.from(a.dataSync(), (v) => v > 1), 'bool'); // fixed by the slope's current side of 1
    const neg = mixed ? tf.where(above, tf.sub(1, a), tf.sub(a, 1)) : tf.sub(a, 1);
    const q = fq(`${p}_neg_relu`, tf.relu(tf.mul(z, neg)));
    const branch = mixed ? fq(`${p}_signed`, tf.mul(q, tf.where(above, tf.scalar(-1), tf.scalar(1)))) : q;
    h = fq(p, tf.add(z, branch));
  }
  let y: tf.Tensor | tf.Tensor[] = h;
  for (const l of tail) y = l.getClassName() === 'AddUpsampledInput' ? (l.apply([y as tf.Tensor, x]) as tf.Tensor) : (l.apply(y) as tf.Tensor);
  return y as tf.Tensor4D;
}

/** Writes the model with the current variables into `dir`, with `graph(model)` as its model.onnx. */
async function writeFolder(dir: string, graph: (g: OnnxGraph) => OnnxGraph): Promise<string> {
  for (const s of stages) {
    s.layer.setWeights([s.kernel, s.bias]);
    if (s.prelu) s.prelu.layer.setWeights([tf.reshape(s.prelu.alpha, s.prelu.layer.getWeights()[0].shape)]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  await saveModel(model, dir);
  const { graph: g, encode } = await studentOnnxGraph(model, await modelSourceHash(dir));
  fs.writeFileSync(path.join(dir, STUDENT_ONNX_FILE), encodeOnnxModel(graph(g), encode));
  return dir;
}

async function score(dir: string): Promise<string> {
  const student = await Student.load(dir, { backend: 'onnx', threads: 2 });
  try {
    if (student.info.backend !== 'onnx') throw new Error(`${dir} did not load its model.onnx`);
    const r = [];
    for (const set of ['Set5', 'Set14']) r.push(await evaluateStudent(student, `${DATA}/${set}/HR`, { scale }));
    return r.map((v) => `${v.psnr.toFixed(3)} / ${v.ssim.toFixed(4)}`).join('  |  ');
  } finally {
    student.dispose();
  }
}

// Simulation against ONNX Runtime's int8 session, and the starting scores.
const quantize = (g: OnnxGraph) => quantizeGraphInt8(g, ranges);
const ptqDir = await writeFolder(path.join(out, 'ptq-int8'), quantize);
{
  const c = calib[0];
  const [, , hh, ww] = c.dims;
  const runner = await createOnnxRunner(fs.readFileSync(path.join(ptqDir, STUDENT_ONNX_FILE)), { threads: 2, spinning: false });
  const ort = (await runner.runAll(c.data, c.dims)).output.data as Float32Array;
  await runner.dispose();
  const nhwc = tf.tidy(() => tf.transpose(tf.tensor4d(c.data, [1, 3, hh, ww]), [0, 2, 3, 1]) as tf.Tensor4D);
  const sim = tf.tidy(() => tf.transpose(forward(nhwc), [0, 3, 1, 2]).dataSync() as Float32Array);
  const ref = tf.tidy(() => tf.transpose(model.predict(nhwc) as tf.Tensor, [0, 3, 1, 2]).dataSync() as Float32Array);
  nhwc.dispose();
  const diff = (a: Float32Array, b: Float32Array) => {
    let [sum, max] = [0, 0];
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      sum += d;
      max = Math.max(max, d);
    }
    return `mean |Δ| ${(sum / a.length).toExponential(2)}, max ${max.toExponential(2)}`;
  };
  console.log(`on a ${ww}×${hh} crop (1/255 = ${(1 / 255).toExponential(2)}): simulation vs ONNX Runtime int8 ${diff(sim, ort)}; ONNX Runtime int8 vs float ${diff(ort, ref)}; simulation vs float ${diff(sim, ref)}`);
}
if (args.sensitivity) {
  // Set5 PSNR of the simulated graph with one group of tensors left in float at a time.
  const simPsnr = async () => {
    const r = await evaluateUpscaler(
      async (lr) => {
        const y = tf.tidy(() => {
          const rgb = lr.channels === 3 ? tf.tensor4d(Float32Array.from(lr.data, (v) => v / 255), [1, lr.height, lr.width, 3]) : tf.tile(tf.tensor4d(Float32Array.from(lr.data, (v) => v / 255), [1, lr.height, lr.width, 1]), [1, 1, 1, 3]);
          return tf.clipByValue(tf.round(tf.mul(forward(rgb as tf.Tensor4D), 255)), 0, 255);
        });
        const data = Uint8Array.from(await y.data());
        y.dispose();
        return { data, width: lr.width * scale, height: lr.height * scale, channels: 3 };
      },
      `${DATA}/Set5/HR`,
      { scale, model: 'sim', backend: 'wasm' },
    );
    return r.psnr.toFixed(3);
  };
  const groups: [string, string[]][] = [['nothing', []], ['weights', ['weights']], ...stages.map((s) => [s.conv, plan.tensors.filter((t) => t === s.conv || (s.prelu && t.startsWith(s.prelu.name)))] as [string, string[]])];
  const all = plan.tensors.filter((t) => t !== 'input');
  console.log(`Set5, simulated: all quantized ${await simPsnr()}`);
  for (const [k, ts] of groups) {
    float.clear();
    ts.forEach((t) => float.add(t));
    console.log(`  ${k} in float: ${await simPsnr()}`);
  }
  float.clear();
  all.forEach((t) => float.add(t));
  console.log(`  every activation in float (weights int8): ${await simPsnr()}`);
  process.exit(0);
}
console.log(`shipped float: ${await score(src)}`);
console.log(`post-training int8 (${args.method}): ${await score(ptqDir)}`);

// 2. Fine-tuning through the simulated int8 graph.
const data = await imageFolderDataset(['T91', 'BSDS200', 'Kodak24', 'McMaster'].map((d) => `${DATA}/${d}/HR`), { scale: scale as 2, patchSize: Number(args.patch), batchSize: Number(args.batch), seed: Number(args.seed) });
const lr0 = Number(args.lr);
const opt = tf.train.adam(lr0);
/** Adam's learning rate, set at every step (the cosine schedule). */
const rate = opt as unknown as { learningRate: number };
t0 = performance.now();
let avg = 0;
const it = data[Symbol.asyncIterator]();
for (let step = 1; step <= steps; step++) {
  rate.learningRate = (lr0 * (1 + Math.cos((Math.PI * (step - 1)) / steps))) / 2;
  const { value } = await it.next();
  const { lr, hr } = value!;
  const loss = opt.minimize(() => tf.mean(tf.abs(tf.sub(rgbToY(forward(lr)), rgbToY(hr)))) as tf.Scalar, true, variables)!;
  avg = step === 1 ? loss.dataSync()[0] : 0.98 * avg + 0.02 * loss.dataSync()[0];
  tf.dispose([loss, lr, hr]);
  if (step % 100 === 0 || step === steps) console.log(`step ${step}  loss ${avg.toFixed(5)}  lr ${rate.learningRate.toExponential(2)}  ${((step * 1000) / (performance.now() - t0)).toFixed(2)} steps/s  tensors ${tf.memory().numTensors}`);
}
data.dispose();

// 3–4. Export and scores.
const floatDir = await writeFolder(path.join(out, 'float'), (g) => g);
const int8Dir = await writeFolder(path.join(out, 'int8'), (g) => {
  const missing = planInt8(g).tensors.filter((t) => !planInt8(g).fixed.has(t) && !ranges.has(t));
  if (missing.length) throw new Error(`the fine-tuned graph has tensors without a training range: ${missing.join(', ')}`);
  return quantize(g);
});
console.log(`fine-tuned float: ${await score(floatDir)}`);
console.log(`fine-tuned int8: ${await score(int8Dir)}`);
console.log(`models in ${out}`);
