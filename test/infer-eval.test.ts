import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateStudent, evaluateUpscaler } from '../src/infer/evaluate';
import { Student } from '../src/infer/student';
import { psnr } from '../src/metrics/psnr';
import { resizeBicubic } from '../src/metrics/resize-bicubic';
import type { RawImage } from '../src/io/raw-image';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.resolve(ROOT, process.env.SHARPEN_KD_DATA ?? '../shared/data');
const SET5 = path.join(DATA, 'Set5/HR');
const hasSet5 = await fs.stat(SET5).then(() => true, () => false);

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-eval-'));
  for (const [name, w, h] of [['a', 37, 29], ['b', 30, 30]] as const) {
    const b = Buffer.alloc(w * h * 3);
    for (let i = 0; i < b.length; i++) b[i] = Math.round(128 + 100 * Math.sin(i / 7) * Math.cos(i / 131));
    await sharp(b, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(tmp, `${name}.png`));
  }
  await fs.writeFile(path.join(tmp, 'readme.txt'), 'ignored');
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('evaluateStudent', () => {
  it('mod-crops, downscales, upscales and scores Y-PSNR with crop = scale (matches a hand computation)', async () => {
    using s = await Student.load('bicubic', { scale: 3, backend: 'cpu' });
    const r = await evaluateStudent(s, tmp, { scale: 3 });
    expect(r.n).toBe(2);
    expect(r.images.map((i) => i.name)).toEqual(['a', 'b']);
    // Hand computation for a.png: 37x29 -> mod-crop 36x27 -> 12x9 -> 36x27.
    const { data, info } = await sharp(path.join(tmp, 'a.png')).raw().toBuffer({ resolveWithObject: true });
    const full: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3, bits: 8 };
    const hr: RawImage = { ...full, width: 36, height: 27, data: new Uint8Array(36 * 27 * 3) };
    for (let y = 0; y < 27; y++) hr.data.set(full.data.subarray(y * 37 * 3, (y * 37 + 36) * 3), y * 36 * 3);
    const sr = resizeBicubic(resizeBicubic(hr, 1 / 3) as RawImage, 3) as RawImage;
    const expected = await psnr(sr, hr, { yChannel: true, crop: 3 });
    expect(Math.abs(r.images[0].psnr - expected)).toBeLessThan(0.1);
    expect(r.psnr).toBeCloseTo((r.images[0].psnr + r.images[1].psnr) / 2, 10);
    await expect(evaluateStudent(s, tmp, { scale: 2 })).rejects.toThrow(/upscales by 3, but --scale is 2/);
  });

  it('scores a gray HR image as its own Y (the literature), not as studio-range Y of replicated RGB', async () => {
    const dir = path.join(tmp, 'gray');
    await fs.mkdir(dir, { recursive: true });
    const [w, h] = [34, 26];
    const g = Buffer.alloc(w * h);
    for (let i = 0; i < g.length; i++) g[i] = Math.round(128 + 110 * Math.sin(i / 5) * Math.cos(i / 97));
    await sharp(g, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(dir, 'g.png'));
    // MATLAB bicubic on the RGB input the protocol builds (gray replicated), rounded to uint8 after each pass.
    const r = await evaluateUpscaler(async (lr) => resizeBicubic(lr, 2) as RawImage, dir, { scale: 2, model: 'imresize', backend: 'js' });
    expect(r).toMatchObject({ model: 'imresize', backend: 'js', n: 1 });
    // The whole pipeline in gray: mod-crop (34x26), MATLAB bicubic down and up, gray vs gray.
    const hrGray: RawImage = { data: new Uint8Array(g), width: w, height: h, channels: 1, bits: 8 };
    const srGray = resizeBicubic(resizeBicubic(hrGray, 1 / 2) as RawImage, 2) as RawImage;
    const literature = await psnr(srGray, hrGray, { yChannel: true, crop: 2 });
    expect(r.images[0].psnr).toBeCloseTo(literature, 6);
    // Scoring the gray HR as replicated RGB (studio-range Y on both sides) gives a different, higher number.
    const rgb = (img: RawImage): RawImage => ({ ...img, channels: 3, data: Uint8Array.from({ length: img.data.length * 3 }, (_, i) => img.data[Math.floor(i / 3)]) });
    const asRgb = await psnr(rgb(srGray), rgb(hrGray), { yChannel: true, crop: 2 });
    expect(asRgb - r.images[0].psnr).toBeGreaterThan(1);
    // evaluateStudent goes through the same scoring (its bicubic rounds once, at the end: within 0.05 dB).
    using s = await Student.load('bicubic', { scale: 2, backend: 'cpu' });
    expect(Math.abs((await evaluateStudent(s, dir, { scale: 2 })).psnr - literature)).toBeLessThan(0.05);
  });

  it.skipIf(!hasSet5)('bicubic x4 on Set5 reproduces the literature (28.42 dB / 0.8104)', async () => {
    using s = await Student.load('bicubic', { scale: 4, backend: 'cpu' });
    const r = await evaluateStudent(s, SET5, { scale: 4 });
    expect(r.n).toBe(5);
    expect(Math.abs(r.psnr - 28.42)).toBeLessThan(0.05);
    expect(Math.abs(r.ssim - 0.8104)).toBeLessThan(0.002);
  });

  it('CLI --json prints the report', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'eval', '--data', tmp, '--scale', '2', '--model', 'bicubic', '--backend', 'cpu', '--json'],
      { cwd: ROOT },
    );
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ model: 'bicubic', backend: 'cpu', scale: 2, n: 2 });
    expect(r.psnr).toBeGreaterThan(20);
    expect(r.ssim).toBeGreaterThan(0.5);
  });
});
