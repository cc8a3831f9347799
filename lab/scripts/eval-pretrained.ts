/**
 * Scores any TF.js super-resolution model folder (model.json + weights) as a teacher candidate: wrapped with
 * `teacherFromModel` in the value range it expects, then Y-PSNR / Y-SSIM with the sharpen-kd eval protocol
 * (`evaluateModel`: MATLAB-bicubic LR, Y channel, `scale` border pixels cropped). Whole images, TF.js wasm.
 *
 * Usage: npx tsx lab/scripts/eval-pretrained.ts <model dir> --scale 4 [--range 0,255] [--data ../shared/data/Set5/HR]
 * e.g. for the RDN models of `npm pack @upscalerjs/models` (unpacked): package/models/div2k/017-4x --scale 4 --range 0,1
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { loadModel } from '../../src/io/model-io';
import { teacherFromModel } from '../../src/models/teacher-from-model';
import { evaluateModel, loadValidationSet } from '../../src/train/validate';
import { modelArgs } from './model-args';

const { dir, scale, data, flag } = modelArgs('npx tsx lab/scripts/eval-pretrained.ts <model dir> --scale 4 [--range 0,255] [--data <HR folder>]');
const range = flag('--range', '0,1').split(',').map(Number) as [number, number];

await useBackend('wasm');
const teacher = teacherFromModel(await loadModel(dir), { scale, inputRange: range });
const set = await loadValidationSet(data, scale);
const r = await evaluateModel((x) => teacher.predict(x) as tf.Tensor4D, set);
console.log(`${dir} x${scale}, range [${range.join(', ')}], ${data}: Y-PSNR ${r.psnr.toFixed(3)} dB, Y-SSIM ${r.ssim.toFixed(4)}`);
