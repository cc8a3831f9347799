import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downscaleFiles } from '../src/cli/downscale';
import { listImageFiles } from '../src/io/image-files';
import { readImageAsStored } from '../src/io/node-image';
import { scoreFolders } from '../src/cli/score';
import { InputError, ShapeError } from '../src/index';
import { fromFloatRgb, readImage, toFloatRgb, writeImage, type RawImage } from '../src/entries/data';
import { modCrop, psnr, resizeBicubic, ssim, upscaleBicubic } from '../src/entries/metrics';

const root = path.resolve(__dirname, '..');
let tmp: string;

/** A deterministic textured test image. */
function synth(width: number, height: number, channels: 1 | 3, seed: number): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = 128 + 90 * Math.sin(x / (2 + c) + seed) * Math.cos(y / 3 - seed) + ((x * 7 + y * 13 + c * 5 + seed) % 17) - 8;
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, width, height, channels, bits: 8 };
}

/** Bicubic SR of every LR file, written as RGB PNGs (what an RGB model does, also for gray inputs). */
async function upscaleDir(lrDir: string, srDir: string, scale: number): Promise<void> {
  for (const f of await listImageFiles(lrDir)) {
    const lr = await readImage(f);
    const sr = tf.tidy(() => upscaleBicubic(tf.tensor4d(toFloatRgb(lr), [1, lr.height, lr.width, 3]), scale));
    await writeImage(path.join(srDir, path.basename(f)), fromFloatRgb((await sr.data()) as Float32Array, lr.width * scale, lr.height * scale));
    sr.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = mkdtempSync(path.join(tmpdir(), 'sharpen-kd-metrics-cli-'));
  await writeImage(path.join(tmp, 'HR', 'a.png'), synth(37, 30, 3, 1)); // not a multiple of 4: mod-cropped
  await writeImage(path.join(tmp, 'HR', 'b.png'), synth(32, 28, 1, 2)); // stored as a gray PNG
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('downscale', () => {
  it('mod-crops, downscales like resizeBicubic and keeps gray files gray', async () => {
    const files = await listImageFiles(path.join(tmp, 'HR'));
    const progress: number[] = [];
    const out = await downscaleFiles(files, path.join(tmp, 'LR4'), { scale: 4, onProgress: (p) => progress.push(p.done) });
    expect(out.map((f) => path.basename(f))).toEqual(['a.png', 'b.png']);
    expect(progress).toEqual([1, 2]);
    const a = await readImage(out[0]);
    expect([a.width, a.height]).toEqual([9, 7]);
    const expected = resizeBicubic(modCrop(synth(37, 30, 3, 1), 4), 1 / 4);
    expect(Array.from(a.data)).toEqual(Array.from(expected.data));
    const b = await readImageAsStored(out[1]);
    expect([b.width, b.height, b.channels]).toEqual([8, 7, 1]);
  });
  it('stops with AbortError when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(downscaleFiles([path.join(tmp, 'HR', 'a.png')], path.join(tmp, 'LRx'), { scale: 2, signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});

describe('score', () => {
  it('matches psnr/ssim on Y with crop = scale, over mod-cropped HR, gray HR against RGB SR', async () => {
    await downscaleFiles(await listImageFiles(path.join(tmp, 'HR')), path.join(tmp, 'LR2'), { scale: 2 });
    await upscaleDir(path.join(tmp, 'LR2'), path.join(tmp, 'SR2'), 2);
    const r = await scoreFolders(path.join(tmp, 'SR2'), path.join(tmp, 'HR'), { scale: 2 });
    expect(r.n).toBe(2);
    expect(r.crop).toBe(2);
    const hrA = modCrop(synth(37, 30, 3, 1), 2);
    const srA = await readImage(path.join(tmp, 'SR2', 'a.png'));
    expect(r.images[0].psnr).toBeCloseTo(await psnr(srA, hrA, { yChannel: true, crop: 2 }), 10);
    expect(r.images[0].ssim).toBeCloseTo(await ssim(srA, hrA, { yChannel: true, crop: 2 }), 10);
    // The gray image: its RGB SR (R = G = B) scores exactly like the gray SR on the gray values.
    const srB = await readImage(path.join(tmp, 'SR2', 'b.png'));
    const grayB: RawImage = { ...srB, channels: 1, data: srB.data.filter((_, i) => i % 3 === 0) };
    expect(r.images[1].psnr).toBeCloseTo(await psnr(grayB, synth(32, 28, 1, 2), { crop: 2 }), 8);
    expect(r.psnr).toBeCloseTo((r.images[0].psnr + r.images[1].psnr) / 2, 12);
    expect(r.psnr).toBeGreaterThan(20);
  });
  it('names missing SR files and rejects size mismatches with typed errors', async () => {
    await writeImage(path.join(tmp, 'SRpart', 'a.png'), synth(36, 30, 3, 1));
    const missing = await scoreFolders(path.join(tmp, 'SRpart'), path.join(tmp, 'HR'), { scale: 2 }).catch((e) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect(missing.message).toMatch(/no SR image for 1 of 2 HR images \(b\)/);
    const wrong = await scoreFolders(path.join(tmp, 'SR2'), path.join(tmp, 'HR'), { scale: 4 }).catch((e) => e);
    expect(wrong).toBeInstanceOf(ShapeError);
    expect(wrong.message).toMatch(/is 36x30 but .*a\.png mod-cropped to a multiple of 4 is 36x28/);
  });
  it('CLI: --json output and exit code 2 on a missing folder', () => {
    const cli = path.join(root, 'src/cli/main.ts');
    const run = (args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    const json = JSON.parse(run(['score', path.join(tmp, 'SR2'), path.join(tmp, 'HR'), '--scale', '2', '--json']));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['n', 'psnr', 'ssim', 'images']));
    expect(json.n).toBe(2);
    let status = 0;
    let stderr = '';
    try {
      run(['score', path.join(tmp, 'nope'), path.join(tmp, 'HR'), '--scale', '2']);
    } catch (e) {
      ({ status, stderr } = e as { status: number; stderr: string });
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/nope: no such file or folder/);
  });
});

const dataDir = path.resolve(root, process.env.SHARPEN_KD_DATA ?? '../shared/data');
const set5 = path.join(dataDir, 'Set5', 'HR');

describe.skipIf(!existsSync(set5))('Set5 x4 bicubic reproduces the literature', () => {
  it('mean Y-PSNR within 0.1 dB of 28.42 (downscale -> upscaleBicubic -> score)', async () => {
    await downscaleFiles(await listImageFiles(set5), path.join(tmp, 'set5', 'LR'), { scale: 4 });
    await upscaleDir(path.join(tmp, 'set5', 'LR'), path.join(tmp, 'set5', 'SR'), 4);
    const r = await scoreFolders(path.join(tmp, 'set5', 'SR'), set5, { scale: 4 });
    expect(r.n).toBe(5);
    expect(Math.abs(r.psnr - 28.42)).toBeLessThan(0.1);
    expect(Math.abs(r.ssim - 0.8104)).toBeLessThan(0.005);
  });
});
