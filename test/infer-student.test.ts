import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, InputError, ModelError } from '../src/errors';
import { Student } from '../src/infer/student';
import { saveModel } from '../src/io/model-io';
import type { RawImage } from '../src/io/raw-image';
import { buildStudent } from '../src/models/student';
import { resizeBicubic } from '../src/metrics/resize-bicubic';
import { upscaleBicubic } from '../src/metrics/resize-tensor';
import { maxAbsDiff, predictWhole, testImage, tinyEspcn } from './infer-fixtures';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-student-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function rawFrom(img: Float32Array, w: number, h: number, channels: 3 | 4 = 3): RawImage {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) data[i * channels + c] = Math.round(img[i * 3 + c] * 255);
    if (channels === 4) data[i * channels + 3] = (i * 7) % 256;
  }
  return { data, width: w, height: h, channels, bits: 8 };
}

describe('Student', () => {
  it('tensor in, tensor out: whole (fast path) and tiled agree with model.predict', async () => {
    const model = tinyEspcn(2);
    const img = testImage(33, 41, 1);
    const ref = await predictWhole(model, img, 33, 41);
    using s = await Student.fromModel(model, { backend: 'cpu' });
    expect(s.scale).toBe(2);
    expect(s.info.receptiveField).toBe(4);
    const x = tf.tensor3d(img, [33, 41, 3]);
    for (const tile of [undefined, 24]) {
      const y = await s.sharpen(x, { tile });
      expect(y.shape).toEqual([66, 82, 3]);
      expect(maxAbsDiff(await y.data(), ref)).toBeLessThan(1e-5);
      y.dispose();
    }
    x.dispose();
  });

  it('tf.memory().numTensors stays flat over 100 calls (tensor, whole and tiled; RawImage)', async () => {
    using s = await Student.fromModel(tinyEspcn(2, { width: 4 }), { backend: 'cpu' });
    const x = tf.tensor3d(testImage(12, 12), [12, 12, 3]);
    const raw = rawFrom(testImage(12, 12), 12, 12, 4);
    const warm = await s.sharpen(x);
    warm.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const y = await s.sharpen(x, { tile: i % 2 ? 30 : undefined });
      y.dispose();
      if (i % 10 === 0) await s.sharpen(raw, { tile: 30 });
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('RGBA: colour through the model, alpha upscaled with bicubic; 8-bit rounding', async () => {
    const model = tinyEspcn(2);
    const [h, w] = [20, 26];
    const img = testImage(h, w, 2);
    const raw = rawFrom(img, w, h, 4);
    const rgb8 = new Float32Array(h * w * 3).map((_, i) => raw.data[Math.floor(i / 3) * 4 + (i % 3)] / 255);
    const ref = await predictWhole(model, rgb8, h, w);
    using s = await Student.fromModel(model, { backend: 'cpu' });
    const out = await s.sharpen(raw, { tile: 24 });
    expect([out.width, out.height, out.channels, out.bits]).toEqual([52, 40, 4, 8]);
    const alphaIn = tf.tensor3d(Float32Array.from(raw.data.filter((_, i) => i % 4 === 3), (v) => v / 255), [h, w, 1]);
    const alphaUp = upscaleBicubic(alphaIn, 2);
    const alphaRef = Array.from(await alphaUp.data(), (v) => Math.round(v * 255));
    tf.dispose([alphaIn, alphaUp]);
    for (let i = 0; i < 52 * 40; i++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.min(255, Math.max(0, Math.round(ref[i * 3 + c] * 255)));
        expect(Math.abs(out.data[i * 4 + c] - v)).toBeLessThanOrEqual(1);
      }
      expect(Math.abs(out.data[i * 4 + 3] - alphaRef[i])).toBeLessThanOrEqual(1);
    }
  });

  it('RawImages of any sample type: float32 in [0, 1] comes back float32, Uint8ClampedArray without bits as 8-bit', async () => {
    const model = tinyEspcn(2);
    const [h, w] = [26, 30];
    const img = testImage(h, w, 3);
    const ref = await predictWhole(model, img, h, w);
    using s = await Student.fromModel(model, { backend: 'cpu' });
    const out = await s.sharpen({ data: img, width: w, height: h, channels: 3 }, { tile: 20 });
    expect(out.data).toBeInstanceOf(Float32Array);
    expect([out.width, out.height, out.channels, out.bits]).toEqual([60, 52, 3, undefined]);
    expect(maxAbsDiff(out.data, ref)).toBeLessThan(1e-5);
    const bytes = rawFrom(img, w, h);
    const clamped = await s.sharpen({ data: Uint8ClampedArray.from(bytes.data), width: w, height: h, channels: 3 }, { tile: 20 });
    expect(clamped.data).toBeInstanceOf(Uint8Array);
    expect(clamped.bits).toBe(8);
    expect(Array.from(clamped.data)).toEqual(Array.from((await s.sharpen(bytes, { tile: 20 })).data));
  });

  it('encoded bytes: 16-bit PNG stays 16-bit, gray stays gray, EXIF orientation applied, ICC kept', async () => {
    using s = await Student.fromModel(tinyEspcn(2, { width: 4 }), { backend: 'cpu' });
    const px = new Uint16Array(10 * 8 * 3).map((_, i) => (i * 997) % 65536);
    const png16 = await sharp(px, { raw: { width: 10, height: 8, channels: 3 } }).toColourspace('rgb16').withIccProfile('p3').png().toBuffer();
    const out16 = await s.sharpen(png16);
    const m16 = await sharp(out16).metadata();
    expect([m16.format, m16.depth, m16.width, m16.height]).toEqual(['png', 'ushort', 20, 16]);
    expect(Buffer.from(m16.icc!).equals((await sharp(png16).metadata()).icc!)).toBe(true);

    const gray = await sharp(Buffer.alloc(10 * 8, 90), { raw: { width: 10, height: 8, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const mg = await sharp(await s.sharpen(gray)).metadata();
    expect([mg.channels, mg.space]).toEqual([1, 'b-w']);

    const rot = await sharp(Buffer.alloc(10 * 8 * 3, 120), { raw: { width: 10, height: 8, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const mr = await sharp(await s.sharpen(rot)).metadata();
    expect([mr.format, mr.width, mr.height, mr.orientation]).toEqual(['jpeg', 16, 20, undefined]);

    const webp = await s.sharpen(new Uint8Array(rot), { format: 'webp' });
    expect((await sharp(webp).metadata()).format).toBe('webp');
  });

  it('ImageData-like RGBA in, ImageData-like out (browser path, no canvas needed)', async () => {
    using s = await Student.fromModel(tinyEspcn(2, { width: 4 }), { backend: 'cpu' });
    const data = new Uint8ClampedArray(6 * 5 * 4).map((_, i) => (i % 4 === 3 ? 128 : i * 3));
    const out = await s.sharpen({ data, width: 6, height: 5 });
    expect(out.data).toBeInstanceOf(Uint8ClampedArray);
    expect([out.width, out.height, out.data.length]).toEqual([12, 10, 12 * 10 * 4]);
    expect(out.data.filter((_, i) => i % 4 === 3).every((a) => a === 128)).toBe(true);
  });

  it('abort in the middle of an image rejects with AbortError and leaks nothing', async () => {
    using s = await Student.fromModel(tinyEspcn(2, { width: 4 }), { backend: 'cpu' });
    const x = tf.tensor3d(testImage(64, 64), [64, 64, 3]);
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    let seen = 0;
    const err = await s
      .sharpen(x, {
        tile: 24,
        signal: ac.signal,
        onProgress: (p) => {
          seen = p.done;
          if (p.done === 2) ac.abort();
        },
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(seen).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('bad inputs give InputError naming the input', async () => {
    using s = await Student.fromModel(tinyEspcn(2, { width: 4 }), { backend: 'cpu' });
    const corrupt = path.join(tmp, 'corrupt.png');
    await fs.writeFile(corrupt, Buffer.from('\x89PNG\r\n\x1a\n garbage'));
    for (const [input, re] of [
      [corrupt, /corrupt\.png: cannot decode/],
      [path.join(tmp, 'missing.png'), /missing\.png: cannot read file \(no such file\)/],
      [new Uint8Array(0), /empty/],
    ] as const) {
      const e = await s.sharpen(input).catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(re);
    }
    const empty = tf.zeros([0, 4, 3]) as tf.Tensor3D;
    await expect(s.sharpen(empty, { format: 'png' })).rejects.toBeInstanceOf(InputError);
    empty.dispose();
  });
});

describe('Student.load', () => {
  it('unknown names list the valid ones; missing built-ins say so', async () => {
    const e = await Student.load('x5').catch((x) => x);
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/x1, x2, x2-fast, x4, x4-plus, bicubic/);
    const m = await Student.load('x2', { modelDir: tmp }).catch((x) => x);
    expect(m).toBeInstanceOf(ModelError);
    expect(m.message).toMatch(/not installed/);
    // Without modelDir, the folder is models/ at the package root (found from src/ here, from dist/ when installed).
    const root = await Student.load('x4').catch((x) => x);
    if (root instanceof ModelError) expect(root.message).toContain(path.join(path.resolve(__dirname, '..'), 'models', 'x4', 'model.json'));
    else root.dispose();
  });

  it('the shipped students stay within their size budgets and load from the package folder with the scale they claim', async () => {
    const dir = path.resolve(__dirname, '..', 'models');
    // The real-time students (x2-fast too): 200 KB each; x4-plus (about 4x the parameters, float16 weights): 512 KB. Those with an
    // int8 graph (model.int8.onnx, int8 weights) get a quarter more for it.
    const budgets = { x1: 200, x2: 250, 'x2-fast': 200, x4: 200, 'x4-plus': 640 } as const;
    for (const [name, kb] of Object.entries(budgets)) {
      const files = await fs.readdir(path.join(dir, name));
      let bytes = 0;
      for (const f of files) bytes += (await fs.stat(path.join(dir, name, f))).size;
      expect(bytes, `models/${name}`).toBeLessThanOrEqual(kb * 1024);
      const s = await Student.load(name, { backend: 'cpu' });
      expect(s.scale).toBe(Number(name.slice(1, 2)));
      s.dispose();
    }
  });

  it('loads a saved model folder and a built-in name from modelDir', async () => {
    const model = buildStudent({ arch: 'espcn', scale: 2, width: 6, seed: 3 });
    await saveModel(model, path.join(tmp, 'x2'));
    const img = testImage(16, 16, 4);
    const ref = await predictWhole(model, img, 16, 16);
    for (const s of [await Student.load(path.join(tmp, 'x2'), { backend: 'cpu' }), await Student.load('x2', { modelDir: tmp, backend: 'cpu' })]) {
      expect([s.scale, s.info.arch, s.info.backend]).toEqual([2, 'espcn', 'cpu']);
      const y = await s.sharpen(tf.tensor3d(img, [16, 16, 3]));
      expect(maxAbsDiff(await y.data(), ref)).toBeLessThan(1e-5);
      y.dispose();
      s.dispose();
    }
    model.dispose();
    await expect(Student.load(path.join(tmp, 'x2'), { backend: 'cpu', scale: 4 })).rejects.toThrow(/upscales by 2, not 4/);
  });

  it('bicubic matches MATLAB imresize (metrics module) within one 8-bit level', async () => {
    using s = await Student.load('bicubic', { scale: 3, backend: 'cpu' });
    const raw = rawFrom(testImage(21, 17, 5), 17, 21);
    const out = await s.sharpen(raw, { tile: 16 });
    const ref = resizeBicubic(raw, 3) as RawImage;
    expect([out.width, out.height]).toEqual([51, 63]);
    expect(maxAbsDiff(out.data, ref.data)).toBeLessThanOrEqual(1);
  });

  it('onnx backend (onnxruntime-node) matches tfjs', async () => {
    const model = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, seed: 5 });
    const img = testImage(30, 22, 6);
    const ref = await predictWhole(model, img, 30, 22);
    using s = await Student.fromModel(model, { backend: 'onnx' });
    expect(s.info.backend).toBe('onnx');
    const y = await s.sharpen(tf.tensor3d(img, [30, 22, 3]), { tile: 20 });
    expect(maxAbsDiff(await y.data(), ref)).toBeLessThan(1e-4);
    y.dispose();
  });
});
