/**
 * Distillation in miniature, on the synthetic data sharpen-kd generates when you have no images:
 *
 *   1. train a small teacher (the ResNet U-Net architecture, slimmed down) with `train`,
 *   2. distill it into a tiny student with `distill` (pixel loss + output KD; the teacher's outputs are cached once),
 *   3. compare bicubic, teacher and student on held-out synthetic images (Y-PSNR / SSIM),
 *   4. reload the exported student with `Student.load` and sharpen an image with it.
 *
 *   npx tsx --tsconfig examples/tsconfig.json examples/distill.ts   # about a minute on 2 cores
 *   npx tsx --tsconfig examples/tsconfig.json examples/distill.ts --teacher-steps 60 --steps 60 --out /tmp/distill
 *   (`--tsconfig examples/tsconfig.json`: 'sharpen-kd' resolves to the built dist/, so `npm run build` first.)
 *
 * Real runs use real photos (`openDataset(['T91', 'BSDS200'], ...)`), a full-size teacher and ~10^5 steps:
 * see `sharpen-kd train` / `sharpen-kd distill` and docs/guide.md.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildStudent, buildTeacher, distill, Student, train, useBackend, writeImage, type Progress, type RawImage } from 'sharpen-kd';
import { proceduralImage, syntheticDataset, toFloatRgb } from 'sharpen-kd/data';
import { resizeBicubic } from 'sharpen-kd/metrics';
import { describeModel } from 'sharpen-kd/models';
import { evaluateModel, type ValidationSet } from 'sharpen-kd/train';

const SCALE = 2;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const teacherSteps = flag('--teacher-steps', 600);
const studentSteps = flag('--steps', 800);
const outIdx = process.argv.indexOf('--out');
const out = outIdx >= 0 ? process.argv[outIdx + 1] : path.join(import.meta.dirname, 'out', 'distill');

/** A synthetic 8-bit RGB image (edges, gratings, strokes, gradients), the same for the same seed. */
function syntheticImage(seed: number, size: number): RawImage {
  return proceduralImage(seed, size, size);
}

/** Held-out validation images (seeds the training stream does not use), downscaled with MATLAB bicubic. */
function validationSet(): ValidationSet {
  const images = [101, 102, 103, 104].map((seed) => {
    const hr = syntheticImage(seed, 96);
    const lr = resizeBicubic(hr, 1 / SCALE);
    return { name: `synthetic-${seed}`, hr, lr: toFloatRgb(lr), lrWidth: lr.width, lrHeight: lr.height };
  });
  return { scale: SCALE, images };
}

/** Prints one line per 10% of a training run. */
function progress(label: string): (p: Progress) => void {
  let next = 0;
  return (p) => {
    if (p.stage === 'teacher-cache' && p.done === p.total) console.log(`  ${label}: cached the teacher's outputs for ${p.total} patches`);
    if (p.stage !== 'train' || !p.total || p.done < next) return;
    next = p.done + Math.ceil(p.total / 10);
    const loss = Number(p.info?.loss ?? NaN).toFixed(4);
    const rate = Number(p.info?.['step/s'] ?? NaN).toFixed(1);
    console.log(`  ${label} step ${String(p.done).padStart(4)}/${p.total}  loss ${loss}  ${rate} step/s`);
  };
}

async function main(): Promise<void> {
  // wasm (XNNPACK) is the fast CPU backend; sharpen-kd registers the gradient kernels TF.js lacks to train on it.
  await useBackend('wasm');
  const t0 = performance.now();

  const data = syntheticDataset({ scale: SCALE, patchSize: 24, batchSize: 8, images: 32, imageSize: 128, seed: 1 });
  const val = validationSet();

  // One encoder stage at a quarter of ResNet-50's width: small enough to train here in under a minute.
  const teacher = buildTeacher({ scale: SCALE, depths: [1], widthMultiplier: 1 / 4, seed: 1 });
  const student = buildStudent({ arch: 'compact', scale: SCALE, width: 12, depth: 2, seed: 1 });
  for (const [name, model] of [['teacher', teacher], ['student', student]] as const) {
    const d = describeModel(model, { inputSize: [128, 128] });
    console.log(`${name}: ${d.params} parameters, ${(d.macs / 1e6).toFixed(0)} M multiply-adds per 128x128 input`);
  }

  console.log(`1. training the teacher for ${teacherSteps} steps`);
  // train() trains any model: here the teacher is the `student` of its own run.
  await train({ student: teacher, data, schedule: { steps: teacherSteps, lr: 2e-3, warmup: 20 }, onProgress: progress('teacher') });

  console.log(`2. distilling the student for ${studentSteps} steps`);
  const result = await distill({
    teacher,
    student,
    data,
    schedule: { steps: studentSteps, lr: 3e-3, warmup: 20 },
    loss: { pixel: 1, output: 1 },
    validation: { set: val, every: studentSteps },
    cacheDir: path.join(out, 'teacher-cache'),
    cacheSize: 512,
    out,
    onProgress: progress('student'),
  });

  console.log('3. held-out synthetic images, Y-PSNR / SSIM:');
  const bicubic = (lr: tf.Tensor4D) => resizeBicubic(lr, SCALE);
  for (const [name, model] of [['bicubic', bicubic], ['teacher', teacher], ['student', student]] as const) {
    const r = await evaluateModel(model, val);
    console.log(`  ${name.padEnd(8)} ${r.psnr.toFixed(2)} dB  ${r.ssim.toFixed(4)}`);
  }

  const modelDir = result.files?.modelBest;
  if (!modelDir) throw new Error('distill did not export the student (is `out` set?)');
  console.log(`4. exported the student to ${modelDir}; sharpening a test image with it`);
  const sharpener = await Student.load(modelDir, { backend: 'wasm' });
  try {
    const lr = resizeBicubic(syntheticImage(200, 256), 1 / SCALE);
    const sr = await sharpener.sharpen(lr);
    await writeImage(path.join(out, 'sharpened.png'), sr);
    console.log(`  ${lr.width}x${lr.height} -> ${sr.width}x${sr.height}: ${path.join(out, 'sharpened.png')}`);
  } finally {
    sharpener.dispose();
  }

  teacher.dispose();
  student.dispose();
  data.dispose();
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
