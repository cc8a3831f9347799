import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { useBackend } from '../src/backends/use-backend';
import { ConfigError, ModelError } from '../src/errors';
import { readImage } from '../src/io/node-image';
import { loadModel, saveModel } from '../src/io/model-io';
import { toFloatRgb, type RawImage } from '../src/io/raw-image';
import { psnr } from '../src/metrics/psnr';
import { resizeBicubic } from '../src/metrics/resize-bicubic';
import { upscaleBicubic } from '../src/metrics/resize-tensor';
import { describeModel } from '../src/models/describe';
import { getModelInfo } from '../src/models/metadata';
import { findPackageDir, loadPretrainedTeacher } from '../src/models/pretrained-teachers';
import { tapModel } from '../src/models/taps';
import { teacherFromModel } from '../src/models/teacher-from-model';
import { hasOrt } from './has-ort';

const slimDir = await findPackageDir('@upscalerjs/esrgan-slim');
const DATA = process.env.SHARPEN_KD_DATA ?? path.resolve(__dirname, '../../shared/data');
const butterfly = path.join(DATA, 'Set5/HR/butterfly.png');

function crop(img: RawImage, x0: number, y0: number, w: number, h: number): RawImage {
  const c = img.channels;
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) data.set((img.data as Uint8Array).subarray(((y0 + y) * img.width + x0) * c, ((y0 + y) * img.width + x0 + w) * c), y * w * c);
  return { data, width: w, height: h, channels: c, bits: 8 };
}

function toTensor(img: RawImage): tf.Tensor4D {
  return tf.tensor4d(toFloatRgb(img), [1, img.height, img.width, 3]);
}

/** A smooth synthetic test image when the real data is absent. */
function synthetic(h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => {
    const yy = tf.reshape(tf.linspace(0, 1, h), [h, 1, 1]);
    const xx = tf.reshape(tf.linspace(0, 1, w), [1, w, 1]);
    const phase = tf.reshape(tf.tensor1d([0, 1, 2]), [1, 1, 3]);
    return tf.expandDims(tf.add(tf.mul(tf.sin(tf.add(tf.mul(tf.add(yy, xx), 9), phase)), 0.4), 0.5), 0) as tf.Tensor4D;
  });
}

let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-tfm-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!slimDir)('esrgan-slim (@upscalerjs, MIT) as a teacher, loaded offline from node_modules', () => {
  let teacher: tfl.LayersModel;
  beforeAll(async () => {
    teacher = await loadPretrainedTeacher('esrgan-slim', { scale: 4 });
  });

  it('has teacher metadata, [0,1] range conversion and a default feature tap', () => {
    expect(getModelInfo(teacher)).toMatchObject({ arch: 'external', scale: 4, role: 'teacher', taps: ['FDF'] });
    expect(getModelInfo(teacher).options).toMatchObject({ inputRange: [0, 255], outputRange: [0, 255] });
    expect(teacher.getLayer('to_model_range').getConfig()).toMatchObject({ scale: 255, offset: 0 });
    expect(teacher.getLayer('from_model_range').getConfig()).toMatchObject({ scale: 1 / 255, offset: -0 });
    const d = describeModel(teacher, { inputSize: [32, 32] });
    expect(d.outputShape).toEqual([1, 128, 128, 3]);
    const tapped = tapModel(teacher);
    expect(tapped.outputs[1].shape).toEqual([null, null, null, 64]);
  });

  // The UpscalerJS ESRGAN models are trained for perceptual quality on degraded images, not for PSNR on
  // bicubic LR: on Set5 they score about as bicubic (slim x4: baby 31.75 vs 31.79 dB, butterfly 22.50 vs
  // 22.10 dB). The textured butterfly crop shows a clear, stable gain; alignment is checked too.
  it('upscales a small image x4 better than bicubic (Set5 butterfly crop; synthetic when data is absent)', async () => {
    let lr: tf.Tensor4D;
    let hr: tf.Tensor4D | undefined;
    if (fs.existsSync(butterfly)) {
      const hrImg = crop(await readImage(butterfly), 32, 32, 192, 192);
      lr = toTensor(resizeBicubic(hrImg, 1 / 4));
      hr = toTensor(hrImg);
    } else {
      lr = synthetic(32, 32);
    }
    const sr = teacher.predict(lr) as tf.Tensor4D;
    expect(sr.shape).toEqual([1, 4 * lr.shape[1], 4 * lr.shape[2], 3]);
    const [lo, hi] = [tf.min(sr).dataSync()[0], tf.max(sr).dataSync()[0]];
    expect(lo).toBeGreaterThan(-0.2);
    expect(hi).toBeLessThan(1.2);
    expect(hi - lo).toBeGreaterThan(0.2);
    if (hr) {
      const bic = upscaleBicubic(lr, 4);
      const pSr = await psnr(tf.clipByValue(sr, 0, 1), hr, { yChannel: true, crop: 4 });
      const pBic = await psnr(tf.clipByValue(bic, 0, 1), hr, { yChannel: true, crop: 4 });
      expect(pSr).toBeGreaterThan(pBic + 0.2); // measured 23.02 vs 22.63 dB
      // One-pixel shift of the output lowers PSNR: the output is aligned with the HR grid.
      const h = sr.shape[1];
      const shifted = await psnr(tf.clipByValue(tf.slice(sr, [0, 1, 0, 0], [1, h - 1, -1, -1]), 0, 1), tf.slice(hr, [0, 0, 0, 0], [1, h - 1, -1, -1]), { yChannel: true, crop: 4 });
      expect(shifted).toBeLessThan(pSr - 0.5);
      bic.dispose();
    }
    tf.dispose([lr, sr, ...(hr ? [hr] : [])]);
  });

  it('saves/loads as a flat model and exports to ONNX with parity', async () => {
    const dir = path.join(tmp, 'slim');
    await saveModel(teacher, dir);
    const loaded = await loadModel(dir);
    expect(getModelInfo(loaded).arch).toBe('external');
    const x = tf.randomUniform([1, 12, 10, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const a = teacher.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    if (hasOrt) {
      const runner = await createOnnxRunner(teacher, { threads: 1 });
      const o = await runner.run((await x.data()) as Float32Array, [1, 12, 10, 3]);
      const ref = (await a.data()) as Float32Array;
      let num = 0;
      let den = 0;
      ref.forEach((v, i) => {
        num = Math.max(num, Math.abs(v - o.data[i]));
        den = Math.max(den, Math.abs(v));
      });
      expect(num / den).toBeLessThanOrEqual(1e-5);
      await runner.dispose();
    }
    tf.dispose([x, a, b]);
    loaded.dispose();
  });
});

describe('teacherFromModel', () => {
  it('wraps a GraphModel-like object with range conversion (not saveable)', async () => {
    // A stand-in "graph model" working in [0, 255]: nearest x2 upscaling plus 10 grey levels.
    const graph = { predict: (x: tf.Tensor) => tf.add(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [x.shape[1]! * 2, x.shape[2]! * 2]), 10) };
    const t = teacherFromModel(graph, { scale: 2, inputRange: [0, 255] });
    const x = tf.fill([1, 3, 4, 3], 0.5) as tf.Tensor4D;
    const y = t.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 6, 8, 3]);
    expect(tf.max(tf.abs(tf.sub(y, 0.5 + 10 / 255))).dataSync()[0]).toBeLessThan(1e-5);
    expect(getModelInfo(t)).toMatchObject({ arch: 'external', scale: 2, taps: [] });
    tf.dispose([x, y]);
    await expect(saveModel(t, path.join(tmp, 'graph'))).rejects.toThrow(ModelError);
  });

  it('checks the scale with a probe and validates options', () => {
    const graph = { predict: (x: tf.Tensor) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [x.shape[1]! * 2, x.shape[2]! * 2]) };
    expect(() => teacherFromModel(graph, { scale: 4 })).toThrow(/16x16x3 to 32x32x3/);
    expect(() => teacherFromModel(graph, { scale: 2, inputRange: [1, 0] })).toThrow(ConfigError);
    expect(() => teacherFromModel({} as never, { scale: 2 })).toThrow(ConfigError);
  });

  it('rejects unknown pretrained names and scales', async () => {
    await expect(loadPretrainedTeacher('esrgan-huge' as never, { scale: 4 })).rejects.toThrow(ConfigError);
    await expect(loadPretrainedTeacher('esrgan-slim', { scale: 5 })).rejects.toThrow(/scales 2, 3, 4, 8/);
  });
});
