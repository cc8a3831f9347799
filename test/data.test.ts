import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, ConfigError } from '../src/errors';
import { Rng } from '../src/core/rng';
import { writeImage } from '../src/io/node-image';
import type { RawImage } from '../src/io/raw-image';
import { resizeBicubic } from '../src/metrics/resize-bicubic';
import { modCrop } from '../src/metrics/mod-crop';
import { div2kDataset, imageFolderDataset, openDataset, pairedFolderDataset, syntheticDataset } from '../src/data/datasets';
import { degradePatch, resolveDegradation, sampleDegradation } from '../src/data/degrade';
import { dihedral, rgbFromRaw } from '../src/data/pixels';
import { proceduralImage } from '../src/data/procedural';

let dir: string;
const sizes = [
  [40, 36],
  [53, 47],
  [64, 64],
];

function randomImage(w: number, h: number, seed: number): RawImage {
  // Smooth structure plus noise, so that crops at different positions differ.
  const r = new Rng(seed);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[3 * (y * w + x) + c] = Math.round(127 + 80 * Math.sin((x + 2 * c) / 3 + y / 5) + 40 * (r.next() - 0.5));
  return { data, width: w, height: h, channels: 3, bits: 8 };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-data-'));
  await fs.mkdir(path.join(dir, 'HR'));
  await fs.mkdir(path.join(dir, 'LR'));
  for (const [i, [w, h]] of sizes.entries()) {
    const img = randomImage(w, h, i);
    await writeImage(path.join(dir, 'HR', `img${i}.png`), img);
    await writeImage(path.join(dir, 'LR', `img${i}x2.png`), resizeBicubic(modCrop(img, 2), 1 / 2));
  }
  await fs.mkdir(path.join(dir, 'empty'));
  await fs.mkdir(path.join(dir, 'bad'));
  await fs.writeFile(path.join(dir, 'bad', 'broken.png'), 'not a png at all');
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('patch downscaling', () => {
  it.each([2, 3, 4] as const)('LR patch equals the crop of MATLAB imresize of the whole image (x%i), borders included', async (s) => {
    const raw = randomImage(61, 50, 9);
    const img = rgbFromRaw(raw);
    const full = resizeBicubic(modCrop(raw, s), 1 / s);
    const cfg = resolveDegradation(s);
    const params = sampleDegradation(new Rng(0), cfg);
    const p = 8;
    const lrW = Math.floor(61 / s);
    const lrH = Math.floor(50 / s);
    let worst = 0;
    for (const [x, y] of [
      [0, 0],
      [lrW - p, lrH - p],
      [3, 1],
    ]) {
      const { lr, hr } = await degradePatch(img, x, y, p, cfg, params, new Map());
      expect(hr.length).toBe(p * s * p * s * 3);
      expect(hr[0]).toBeCloseTo(raw.data[3 * (y * s * 61 + x * s)] / 255, 6);
      for (let j = 0; j < p; j++)
        for (let i = 0; i < p * 3; i++) {
          const want = full.data[((y + j) * full.width + x) * 3 + i];
          worst = Math.max(worst, Math.abs(lr[j * p * 3 + i] * 255 - want));
        }
    }
    // Exact up to float rounding ties (float32 crop vs integer input).
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('imageFolderDataset', () => {
  it('yields [0,1] NHWC batches of the right shapes, reproducible from the seed and resumable from its state', async () => {
    const opts = { scale: 2 as const, patchSize: 8, batchSize: 5, seed: 11 };
    const a = await imageFolderDataset(path.join(dir, 'HR'), opts);
    const b = await imageFolderDataset(path.join(dir, 'HR'), opts);
    const c = await imageFolderDataset(path.join(dir, 'HR'), { ...opts, seed: 12 });
    const it = a[Symbol.asyncIterator]();
    const first = (await it.next()).value!;
    expect(first.lr.shape).toEqual([5, 8, 8, 3]);
    expect(first.hr.shape).toEqual([5, 16, 16, 3]);
    const mm = tf.tidy(() => [tf.min(first.hr).dataSync()[0], tf.max(first.hr).dataSync()[0]]);
    expect(mm[0]).toBeGreaterThanOrEqual(0);
    expect(mm[1]).toBeLessThanOrEqual(1);
    expect(mm[1] - mm[0]).toBeGreaterThan(0.2);
    const firstLr = first.lr.dataSync().slice();
    tf.dispose([first.lr, first.hr]);

    const bFirst = await b.nextArrays();
    expect(Array.from(bFirst.lr)).toEqual(Array.from(firstLr));
    expect(Array.from((await c.nextArrays()).lr)).not.toEqual(Array.from(firstLr));

    // Resume: a fresh stream restored to batch 3 gives batch 3 of an uninterrupted stream.
    await a.nextArrays();
    const saved = a.state();
    expect(saved).toEqual({ seed: 11, batch: 2 });
    const third = await a.nextArrays();
    b.restore(saved);
    const resumed = await b.nextArrays();
    expect(Array.from(resumed.hr)).toEqual(Array.from(third.hr));
    for (const d of [a, b, c]) d.dispose();
  });

  it('decodes each image once (LRU) and keeps the tensor count flat', async () => {
    const data = await imageFolderDataset(path.join(dir, 'HR'), { scale: 2, patchSize: 8, batchSize: 4, seed: 1 });
    const before = tf.memory().numTensors;
    let n = 0;
    for await (const { lr, hr } of data) {
      tf.dispose([lr, hr]);
      if (++n === 12) break;
    }
    expect(tf.memory().numTensors).toBe(before);
    data.dispose();
  });

  it('combines folders and skips images smaller than the patch', async () => {
    const data = await imageFolderDataset([path.join(dir, 'HR'), path.join(dir, 'HR')], { scale: 2, patchSize: 24, batchSize: 2 });
    expect(data.description).toMatch(/n=2 /); // only the 53x47 image is too small... 64x64 twice
    data.dispose();
    await expect(imageFolderDataset(path.join(dir, 'HR'), { scale: 4, patchSize: 20 })).rejects.toThrow(/smaller than the HR patch/);
  });

  it('throws InputError for a missing folder, an empty folder and an unreadable image', async () => {
    await expect(imageFolderDataset(path.join(dir, 'nope'), { scale: 2 })).rejects.toBeInstanceOf(InputError);
    await expect(imageFolderDataset(path.join(dir, 'empty'), { scale: 2 })).rejects.toThrow(/folder has no images/);
    const err = await imageFolderDataset(path.join(dir, 'bad'), { scale: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/broken\.png/);
  });

  it('rescale draws HR patches from each image shrunk by MATLAB bicubic, each version as often as an image', async () => {
    const hrDir = path.join(dir, 'HR');
    const both = await imageFolderDataset(hrDir, { scale: 2, patchSize: 8, batchSize: 2, seed: 1, rescale: [1, 0.5] });
    expect(both.description).toMatch(/n=6 .*rescale=1,0\.5/); // the three images and their halves
    both.dispose();
    // At 0.5 only the 64x64 image (32x32 shrunk) holds a 16-pixel LR patch: the HR patch is the whole shrunk image.
    const half = await imageFolderDataset(hrDir, { scale: 2, patchSize: 16, batchSize: 1, seed: 3, rescale: [0.5], augment: false });
    expect(half.description).toMatch(/n=1 /);
    const a = await half.nextArrays();
    const want = resizeBicubic(randomImage(64, 64, 2), 0.5);
    expect(want.width).toBe(32);
    expect(Array.from(a.hr, (v) => Math.round(v * 255))).toEqual(Array.from(want.data));
    half.dispose();
    await expect(imageFolderDataset(hrDir, { scale: 2, rescale: [1, 1.5] })).rejects.toThrow(/\[0\.25, 1\]/);
    await expect(imageFolderDataset(hrDir, { scale: 2, rescale: [0.8, 0.8] })).rejects.toThrow(/distinct/);
    await expect(imageFolderDataset(hrDir, { scale: 2, rescale: [] })).rejects.toBeInstanceOf(ConfigError);
    await expect(pairedFolderDataset({ lr: path.join(dir, 'LR'), hr: path.join(dir, 'HR') }, { scale: 2, patchSize: 8, rescale: [1, 0.5] })).rejects.toThrow(/paired/);
    await expect(imageFolderDataset(hrDir, { scale: 2, patchSize: 8, unlabeled: true, rescale: [0.5] })).rejects.toThrow(/unlabeled/);
  });

  it('validates options with ConfigError', async () => {
    await expect(imageFolderDataset(path.join(dir, 'HR'), { scale: 2, patchSize: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(imageFolderDataset(path.join(dir, 'HR'), { scale: 5 as never })).rejects.toBeInstanceOf(ConfigError);
    await expect(imageFolderDataset(path.join(dir, 'HR'), { scale: 1, degradation: { blur: { range: [3, 1] } } })).rejects.toThrow(/range/);
  });
});

describe('pairedFolderDataset and openDataset', () => {
  it('paired LR files give the same patches as on-the-fly MATLAB bicubic', async () => {
    const opts = { scale: 2 as const, patchSize: 8, batchSize: 6, seed: 4, augment: false };
    const paired = await pairedFolderDataset({ lr: path.join(dir, 'LR'), hr: path.join(dir, 'HR') }, opts);
    const fly = await imageFolderDataset(path.join(dir, 'HR'), opts);
    const a = await paired.nextArrays();
    const b = await fly.nextArrays();
    expect(Array.from(a.hr)).toEqual(Array.from(b.hr));
    let worst = 0;
    for (let i = 0; i < a.lr.length; i++) worst = Math.max(worst, Math.abs(a.lr[i] - b.lr[i]) * 255);
    expect(worst).toBeLessThanOrEqual(1.0001);
    paired.dispose();
    fly.dispose();
  });

  it('openDataset recognises a set folder with HR/ and LR/ as paired data, and falls back to synthetic', async () => {
    const d = await openDataset([dir], { scale: 2, patchSize: 8 });
    expect(d.description).toMatch(/n=3/);
    d.dispose();
    const s = await openDataset([], { scale: 2, patchSize: 8, batchSize: 2 });
    expect(s.description).toMatch(/^synthetic/);
    s.dispose();
  });

  it('reads the DIV2K layout: LR files when present for the scale, on-the-fly bicubic otherwise', async () => {
    const root = path.join(dir, 'DIV2K');
    await fs.mkdir(path.join(root, 'DIV2K_train_HR'), { recursive: true });
    await fs.mkdir(path.join(root, 'DIV2K_train_LR_bicubic', 'X2'), { recursive: true });
    await fs.mkdir(path.join(root, 'DIV2K_valid_HR'), { recursive: true });
    const hr = randomImage(48, 40, 5);
    await writeImage(path.join(root, 'DIV2K_train_HR', '0001.png'), hr);
    await writeImage(path.join(root, 'DIV2K_valid_HR', '0801.png'), hr);
    const lr = randomImage(24, 20, 6); // deliberately not the bicubic of hr: proves the LR file is used
    await writeImage(path.join(root, 'DIV2K_train_LR_bicubic', 'X2', '0001x2.png'), lr);
    const x2 = await div2kDataset(root, { scale: 2, patchSize: 20, batchSize: 1, augment: false });
    const a = await x2.nextArrays();
    // A 20x20 LR patch in a 24x20 image starts at row 0: compare its first row with the file.
    const x0 = Array.from({ length: 5 }, (_, x) => x).find((x) => Math.abs(a.lr[0] * 255 - lr.data[3 * x]) < 0.5 && Math.abs(a.lr[3] * 255 - lr.data[3 * x + 3]) < 0.5);
    expect(x0).toBeDefined();
    expect(x2.description).toMatch(/^div2k-train/);
    const x4 = await div2kDataset(root, { scale: 4, patchSize: 8, batchSize: 1 });
    expect((await x4.nextArrays()).lr.length).toBe(8 * 8 * 3);
    const valid = await div2kDataset(root, { scale: 2, patchSize: 8, split: 'valid' });
    expect(valid.description).toMatch(/div2k-valid/);
    const auto = await openDataset([root], { scale: 2, patchSize: 8 });
    expect(auto.description).toMatch(/n=1 /);
    for (const d of [x2, x4, valid, auto]) d.dispose();
  });

  it('reports a paired folder with a missing LR file', async () => {
    await fs.mkdir(path.join(dir, 'LR2'));
    await fs.copyFile(path.join(dir, 'LR', 'img0x2.png'), path.join(dir, 'LR2', 'img0x2.png'));
    await expect(pairedFolderDataset({ lr: path.join(dir, 'LR2'), hr: path.join(dir, 'HR') }, { scale: 2 })).rejects.toThrow(/no LR counterpart/);
  });
});

describe('synthetic data and augmentation', () => {
  it('procedural images are seeded and varied', () => {
    const a = proceduralImage(1, 64, 64);
    expect(Array.from(proceduralImage(1, 64, 64).data)).toEqual(Array.from(a.data));
    expect(Array.from(proceduralImage(2, 64, 64).data)).not.toEqual(Array.from(a.data));
    const mean = Array.from(a.data).reduce((s: number, v: number) => s + v, 0) / a.data.length;
    const sd = Math.sqrt(Array.from(a.data).reduce((s: number, v: number) => s + (v - mean) ** 2, 0) / a.data.length);
    expect(sd).toBeGreaterThan(10);
  });

  it('syntheticDataset streams reproducibly', async () => {
    const a = syntheticDataset({ scale: 4, patchSize: 6, batchSize: 3, seed: 2, images: 4 });
    const b = syntheticDataset({ scale: 4, patchSize: 6, batchSize: 3, seed: 2, images: 4 });
    const x = await a.nextArrays();
    expect(x.hr.length).toBe(3 * 24 * 24 * 3);
    expect(Array.from((await b.nextArrays()).hr)).toEqual(Array.from(x.hr));
  });

  it('dihedral gives 8 distinct transforms of an asymmetric patch, and t=0 is the identity', () => {
    const n = 3;
    const src = Float32Array.from({ length: n * n * 3 }, (_, i) => i);
    const seen = new Set<string>();
    for (let t = 0; t < 8; t++) seen.add(Array.from(dihedral(src, n, t)).join(','));
    expect(seen.size).toBe(8);
    expect(Array.from(dihedral(src, n, 0))).toEqual(Array.from(src));
  });
});

describe('scale-1 degradations', () => {
  const hf = (a: Float32Array, w: number) => {
    let s = 0;
    for (let i = 3; i < a.length; i++) if (i % (w * 3) >= 3) s += Math.abs(a[i] - a[i - 3]);
    return s;
  };

  it('blur removes high frequencies, noise is seeded, JPEG changes pixels a little', async () => {
    const r = new Rng(3);
    const img = { data: Uint8Array.from({ length: 64 * 64 * 3 }, () => r.int(256)), width: 64, height: 64, channels: 3 as const };
    const none = { sigma: 0, motion: null, noise: 0, noiseSeed: 1, jpegQuality: 0 };
    const cfg = resolveDegradation(1, { quantize: false });
    const base = await degradePatch(img, 10, 10, 32, cfg, none, new Map());
    expect(Array.from(base.lr)).toEqual(Array.from(base.hr));
    const g = await degradePatch(img, 10, 10, 32, cfg, { ...none, sigma: 1.5 }, new Map());
    const g05 = await degradePatch(img, 10, 10, 32, cfg, { ...none, sigma: 0.5 }, new Map());
    expect(hf(g05.lr, 32)).toBeLessThan(0.8 * hf(base.lr, 32));
    expect(hf(g.lr, 32)).toBeLessThan(0.4 * hf(g05.lr, 32));
    const m = await degradePatch(img, 10, 10, 32, cfg, { ...none, motion: { length: 7, angle: 0 } }, new Map());
    expect(hf(m.lr, 32)).toBeLessThan(0.5 * hf(base.lr, 32));
    const n1 = await degradePatch(img, 10, 10, 32, cfg, { ...none, noise: 5 }, new Map());
    const n2 = await degradePatch(img, 10, 10, 32, cfg, { ...none, noise: 5 }, new Map());
    expect(Array.from(n1.lr)).toEqual(Array.from(n2.lr));
    const rms = Math.sqrt(n1.lr.reduce((s, v, i) => s + (v - base.lr[i]) ** 2, 0) / n1.lr.length) * 255;
    expect(rms).toBeGreaterThan(3);
    expect(rms).toBeLessThan(7);
    const smooth = rgbFromRaw(randomImage(64, 64, 2));
    const sb = await degradePatch(smooth, 10, 10, 32, cfg, none, new Map());
    const j = await degradePatch(smooth, 10, 10, 32, cfg, { ...none, jpegQuality: 30 }, new Map());
    const jr = Math.sqrt(j.lr.reduce((s, v, i) => s + (v - sb.lr[i]) ** 2, 0) / j.lr.length) * 255;
    const j95 = await degradePatch(smooth, 10, 10, 32, cfg, { ...none, jpegQuality: 95 }, new Map());
    const jr95 = Math.sqrt(j95.lr.reduce((s, v, i) => s + (v - sb.lr[i]) ** 2, 0) / j95.lr.length) * 255;
    expect(jr95).toBeGreaterThan(1);
    expect(jr95).toBeLessThan(jr);
  });

  it('the default x1 pipeline draws each stage sometimes', () => {
    const cfg = resolveDegradation(1);
    const rng = new Rng(5);
    const draws = Array.from({ length: 400 }, () => sampleDegradation(rng, cfg));
    const frac = (f: (d: (typeof draws)[0]) => boolean) => draws.filter(f).length / draws.length;
    expect(frac((d) => d.sigma > 0)).toBeGreaterThan(0.6);
    expect(frac((d) => d.motion !== null)).toBeGreaterThan(0.1);
    expect(frac((d) => d.noise > 0)).toBeGreaterThan(0.2);
    expect(frac((d) => d.jpegQuality > 0)).toBeGreaterThan(0.2);
    expect(resolveDegradation(2).blur).toBeNull();
  });
});
