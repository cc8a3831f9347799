/**
 * How good a teacher's targets are when it runs on training-sized patches: EMT on a whole image, against the same
 * image cut into bare `--tile`² LR tiles (each run alone, as a teacher cache of `--tile`-pixel patches runs it), and
 * against tiles given `--margins` LR pixels of context that are cropped away afterwards (`distill --cache-context`).
 * Scored with the literature protocol (MATLAB-bicubic LR, Y-PSNR / Y-SSIM, `scale` border pixels cropped).
 *
 * Usage: npx tsx lab/scripts/eval-teacher-context.ts emt-x4 [--data ../shared/data/Set5/HR] [--tile 32] [--margins 0,4,8,16]
 *        [--teacher-weights ../shared/teachers] [--threads 2]
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { isPretrainedTeacher, loadPretrainedTeacher } from '../../src/models/pretrained-teachers';
import { prepareTeacher, type PreparedTeacher } from '../../src/train/teacher';
import { loadValidationSet, type ValidationImage } from '../../src/train/validate';
import { meanScores, scoreImage, type ImageScores } from '../../src/metrics/protocol';
import { modelArgs } from './model-args';

const usage = 'npx tsx lab/scripts/eval-teacher-context.ts emt-x2|emt-x3|emt-x4 [--data <HR folder>] [--tile 32] [--margins 0,4,8,16] [--teacher-weights <dir>] [--threads 2]';
const { dir: name, data, flag } = modelArgs(usage);
if (!isPretrainedTeacher(name) || !name.startsWith('emt-')) {
  console.error(`usage: ${usage}`);
  process.exit(2);
}
const scale = Number(name.slice(-1));
const tile = Number(flag('--tile', '32'));
const margins = flag('--margins', '0,4,8,16').split(',').map(Number);
const weights = flag('--teacher-weights', process.env.SHARPEN_KD_TEACHERS ?? '../shared/teachers');

/** The teacher's output for `img`: whole, or tile by tile with `margin` pixels of context (cropped away). */
async function predict(runner: PreparedTeacher, img: ValidationImage, margin: number | undefined): Promise<tf.Tensor4D> {
  const H = img.lrHeight;
  const W = img.lrWidth;
  const x = tf.tensor4d(img.lr, [1, H, W, 3]);
  try {
    if (margin === undefined) return await runner.run(x);
    const rows: tf.Tensor4D[] = [];
    for (let y0 = 0; y0 < H; y0 += tile) {
      const cols: tf.Tensor4D[] = [];
      for (let x0 = 0; x0 < W; x0 += tile) {
        const h = Math.min(tile, H - y0);
        const w = Math.min(tile, W - x0);
        const [ya, xa] = [Math.max(0, y0 - margin), Math.max(0, x0 - margin)];
        const [yb, xb] = [Math.min(H, y0 + h + margin), Math.min(W, x0 + w + margin)];
        const crop = tf.slice(x, [0, ya, xa, 0], [1, yb - ya, xb - xa, 3]);
        const out = await runner.run(crop);
        crop.dispose();
        cols.push(tf.slice(out, [0, (y0 - ya) * scale, (x0 - xa) * scale, 0], [1, h * scale, w * scale, 3]));
        out.dispose();
      }
      rows.push(tf.concat(cols, 2));
      tf.dispose(cols);
    }
    const whole = tf.concat(rows, 1);
    tf.dispose(rows);
    return whole;
  } finally {
    x.dispose();
  }
}

await useBackend('wasm');
const model = await loadPretrainedTeacher(name, { weights });
const runner = await prepareTeacher(model, 'auto', { threads: Number(flag('--threads', '2')) });
const set = await loadValidationSet(data, scale as 2 | 3 | 4);
console.log(`${name} on ${data} (${runner.runtime}), tiles of ${tile} LR pixels`);
for (const margin of [undefined, ...margins]) {
  const scores: ImageScores[] = [];
  for (const img of set.images) {
    const out = await predict(runner, img, margin);
    const sr = tf.tidy(() => tf.clipByValue(tf.squeeze(out, [0]), 0, 1) as tf.Tensor3D);
    out.dispose();
    scores.push(await scoreImage(sr, img.hr, scale));
    sr.dispose();
  }
  const m = meanScores(scores);
  const label = margin === undefined ? 'whole images' : margin === 0 ? 'bare tiles' : `tiles with ${margin} px of context`;
  console.log(`${label.padEnd(28)} ${m.psnr.toFixed(3)} dB / ${m.ssim.toFixed(4)}`);
}
await runner.dispose();
model.dispose();
