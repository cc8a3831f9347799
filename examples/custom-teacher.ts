/**
 * Bring your own teacher: adopt a pretrained TF.js super-resolution model — here the MIT-licensed ESRGAN-slim ×4
 * of UpscalerJS (`npm install @upscalerjs/esrgan-slim`; its weights ship inside the package) — and distill it into
 * a tiny student.
 *
 *   npx tsx --tsconfig examples/tsconfig.json examples/custom-teacher.ts   # 150 steps on synthetic data
 *   npx tsx --tsconfig examples/tsconfig.json examples/custom-teacher.ts --steps 40 --data ../shared/data/T91 --out /tmp/esrgan-kd
 *   (`--tsconfig examples/tsconfig.json`: 'sharpen-kd' resolves to the built dist/, so `npm run build` first.)
 *
 * `teacherFromModel` wraps any TF.js model (LayersModel or GraphModel) into the sharpen-kd contract — RGB in
 * [0, 1], NHWC, any size — converting its value range inside the model; `loadPretrainedTeacher('esrgan-slim',
 * { scale: 4 })` does the same in one call for the models sharpen-kd knows.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as fs from 'node:fs/promises';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildStudent, distill, loadModel, openDataset, psnr, ssim, Student, useBackend, type RawImage } from 'sharpen-kd';
import { proceduralImage } from 'sharpen-kd/data';
import { resizeBicubic } from 'sharpen-kd/metrics';
import { describeModel, teacherFromModel } from 'sharpen-kd/models';

const SCALE = 4;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const steps = Number(arg('--steps') ?? 150);
const dataDir = arg('--data');
const out = arg('--out') ?? path.join(import.meta.dirname, 'out', 'custom-teacher');

/** The folder of an installed npm package (found from its main entry, since its exports hide package.json). */
async function packageDir(name: string): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(name)));
  while (!(await fs.stat(path.join(dir, 'package.json')).then(() => true, () => false))) dir = path.dirname(dir);
  return dir;
}

/** Scores an upscaler on a synthetic 256×256 test card: Y-PSNR / SSIM against the original, 4-pixel border ignored. */
async function score(label: string, upscale: (lr: RawImage) => Promise<RawImage>): Promise<void> {
  const hr = proceduralImage(7, 256, 256); // an 8-bit RGB RawImage
  const lr = resizeBicubic(hr, 1 / SCALE);
  const t0 = performance.now();
  const sr = await upscale(lr);
  const ms = performance.now() - t0;
  const o = { yChannel: true, crop: SCALE };
  console.log(`  ${label.padEnd(22)} ${(await psnr(sr, hr, o)).toFixed(2)} dB  ${(await ssim(sr, hr, o)).toFixed(4)}  (${ms.toFixed(0)} ms for 64x64 -> 256x256)`);
}

async function main(): Promise<void> {
  await useBackend('wasm');

  // 1. Adopt the pretrained model. ESRGAN-slim expects and produces RGB in [0, 255]; the wrapper converts.
  const file = path.join(await packageDir('@upscalerjs/esrgan-slim'), 'models', `x${SCALE}`, 'model.json');
  const esrgan = await loadModel(file);
  const teacher: LayersModel = teacherFromModel(esrgan, { scale: SCALE, inputRange: [0, 255], name: 'esrgan_slim_x4' });
  const student = buildStudent({ arch: 'compact', scale: SCALE, width: 8, depth: 2, seed: 1 });
  for (const [name, model] of [['teacher (ESRGAN-slim)', teacher], ['student (compact)', student]] as const) {
    const d = describeModel(model, { inputSize: [180, 320] });
    console.log(`${name}: ${d.params} parameters, ${(d.macs / 1e9).toFixed(2)} G multiply-adds per 1280x720 output`);
  }

  // 2. Before distillation.
  console.log('synthetic test card, Y-PSNR / SSIM:');
  await score('bicubic', async (lr) => resizeBicubic(lr, SCALE));
  const asStudent = (m: LayersModel) => Student.fromModel(m, { backend: 'wasm', borrowModel: true });
  const teacherRunner = await asStudent(teacher);
  await score('teacher', (lr) => teacherRunner.sharpen(lr));
  teacherRunner.dispose();

  // 3. Distil. The teacher runs once over `cacheSize` patches (through ONNX Runtime when it is installed and the
  //    model exports to ONNX), then each step only costs the student.
  const data = await openDataset(dataDir ? [dataDir] : [], { scale: SCALE, patchSize: 16, batchSize: 8, seed: 1, images: 16, imageSize: 192 });
  console.log(`distilling ${steps} steps on ${dataDir ?? 'synthetic data'}`);
  let lastReport = 0;
  await distill({
    teacher,
    student,
    data,
    schedule: { steps, lr: 3e-3, warmup: 10 },
    loss: { pixel: 0.5, output: 1 },
    cacheDir: path.join(out, 'teacher-cache'),
    cacheSize: 256,
    exportModels: false,
    onProgress: (p) => {
      if (p.stage === 'teacher-cache' && p.done === p.total) console.log(`  teacher outputs cached for ${p.total} patches (${p.info?.runtime ?? 'tfjs'})`);
      if (p.stage === 'train' && (p.done - lastReport >= steps / 5 || p.done === p.total)) {
        lastReport = p.done;
        console.log(`  step ${p.done}/${p.total}  loss ${Number(p.info?.loss).toFixed(4)}`);
      }
    },
  });

  // 4. After distillation.
  const studentRunner = await asStudent(student);
  await score('student (distilled)', (lr) => studentRunner.sharpen(lr));
  studentRunner.dispose();

  data.dispose();
  student.dispose();
  teacher.dispose(); // shares its weights with `esrgan`
}

await main();
