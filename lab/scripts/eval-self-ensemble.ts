/**
 * Y-PSNR / Y-SSIM of a saved model with and without the x8 geometric self-ensemble (the targets `distill
 * --teacher-ensemble 8` caches), with the literature protocol of `sharpen-kd eval` (evaluateModel: MATLAB-bicubic
 * LR, Y channel, `scale` border pixels cropped). TF.js wasm, whole images.
 *
 * Usage: npx tsx lab/scripts/eval-self-ensemble.ts <model dir> [--data ../shared/data/Set5/HR] [--scale 4]
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { loadModel } from '../../src/io/model-io';
import { forward, inverse } from '../../src/train/self-ensemble';
import { loadValidationSet, evaluateModel } from '../../src/train/validate';
import { modelArgs } from './model-args';

const { dir, scale, data } = modelArgs('npx tsx lab/scripts/eval-self-ensemble.ts <model dir> [--data <HR folder>] [--scale 4]');

await useBackend('wasm');
const model = await loadModel(dir);
const set = await loadValidationSet(data, scale);
for (const n of [1, 8]) {
  const r = await evaluateModel(
    (x) =>
      tf.tidy(() => {
        let sum: tf.Tensor4D | undefined;
        for (let t = 0; t < n; t++) {
          const y = inverse(model.predict(forward(x, t)) as tf.Tensor4D, t);
          sum = sum ? (tf.add(sum, y) as tf.Tensor4D) : y;
        }
        return tf.div(sum!, n) as tf.Tensor4D;
      }),
    set,
  );
  console.log(`${dir} on ${data} x${scale}, self-ensemble x${n}: Y-PSNR ${r.psnr.toFixed(3)} dB, Y-SSIM ${r.ssim.toFixed(4)}`);
}
