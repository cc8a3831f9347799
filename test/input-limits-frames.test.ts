// Size limits checked from the header before decoding, and multi-frame inputs (animated GIF / WebP, multi-page TIFF).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, InputError, type SharpenWarning } from '../src/errors';
import { sharpenFiles } from '../src/infer/batch';
import { sharpenFrames } from '../src/infer/frames';
import { Student } from '../src/infer/student';
import { decodeImage, decodeImageWithProfile, encodeImage } from '../src/io/node-image';
import { DEFAULT_MAX_OUTPUT_PIXELS, DEFAULT_MAX_PIXELS } from '../src/io/pixel-limits';
import { maxAbsDiff, testImage, tinyEspcn } from './infer-fixtures';
import { writePngBomb } from './png-bomb';

let tmp: string;
let bomb: Uint8Array;
const RED = [200, 40, 40];
const BLUE = [40, 40, 200];

/** Two flat 12×10 frames (red, blue) stacked top to bottom, as an animated `format` (TIFF: two pages). */
async function twoFrames(format: 'webp' | 'gif' | 'tiff'): Promise<Uint8Array> {
  const w = 12;
  const h = 10;
  const raw = Buffer.alloc(w * h * 2 * 3);
  for (let i = 0; i < w * h * 2; i++) raw.set(i < w * h ? RED : BLUE, i * 3);
  const s = sharp(raw, { raw: { width: w, height: 2 * h, channels: 3, pageHeight: h } });
  const timing = { delay: [120, 340], loop: 3 };
  const out = format === 'webp' ? s.webp({ lossless: true, ...timing }) : format === 'gif' ? s.gif(timing) : s.tiff();
  return new Uint8Array(await out.toBuffer());
}

/** Mean absolute difference of an RGB(A) row to a colour. */
function rowDiff(data: Uint8Array, width: number, channels: number, row: number, rgb: number[]): number {
  let sum = 0;
  for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) sum += Math.abs(data[(row * width + x) * channels + c] - rgb[c]);
  return sum / (3 * width);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-limits-'));
  // 20000×20000 (400M pixels, over the default cap) at 1 bit per pixel: 50 MB of rows, ~50 KB on disk.
  await writePngBomb(path.join(tmp, 'bomb.png'), 20000);
  bomb = new Uint8Array(await fs.readFile(path.join(tmp, 'bomb.png')));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('pixel limits', () => {
  it('the default cap is sharp\'s 0x3FFF²; a bomb is refused from its header by every decoder, in one line', async () => {
    expect(DEFAULT_MAX_PIXELS).toBe(268402689);
    expect(DEFAULT_MAX_OUTPUT_PIXELS).toBe(268402689);
    expect(bomb.length).toBeLessThan(200_000);
    const before = process.memoryUsage().rss;
    for (const decode of [decodeImageWithProfile, decodeImage]) {
      const e = await decode(bomb, 'bomb.png').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).code).toBe('E_INPUT');
      expect((e as InputError).message).toBe('bomb.png: 400000000 pixels (20000×20000) is over the limit of 268402689 (--max-pixels / maxPixels)');
    }
    // Nothing was decoded (a decode would hold 400 MB of gray samples).
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
  });

  it('maxPixels is an option: lower refuses a small image, a bad value is a ConfigError', async () => {
    const png = await encodeImage({ data: new Uint8Array(24 * 18 * 3), width: 24, height: 18, channels: 3, bits: 8 }, 'png');
    await expect(decodeImageWithProfile(png, 'small.png', { maxPixels: 431 })).rejects.toThrow('small.png: 432 pixels (24×18) is over the limit of 431');
    expect((await decodeImageWithProfile(png, 'small.png', { maxPixels: 432 })).image.width).toBe(24);
    expect((await decodeImage(png, 'small.png', { maxPixels: Infinity })).width).toBe(24);
    for (const bad of [0, -1, 1.5, NaN]) await expect(decodeImage(png, 'small.png', { maxPixels: bad })).rejects.toBeInstanceOf(ConfigError);
  });

  it('Student.sharpen checks the output size (input × scale²) before decoding; sharpenPixels before any work', async () => {
    using s = await Student.load('bicubic', { scale: 2, backend: 'cpu' });
    // With the input cap lifted, the bomb is still refused from its header: its x2 output is 1.6G pixels.
    const e = await s.sharpen(bomb, { maxPixels: Infinity }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(
      '<buffer>: the x2 output would be 1600000000 pixels (40000×40000), over the limit of 268402689 (--max-output-pixels / maxOutputPixels)',
    );
    const png = await encodeImage({ data: new Uint8Array(24 * 18 * 3), width: 24, height: 18, channels: 3, bits: 8 }, 'png');
    await expect(s.sharpen(png, { maxOutputPixels: 1727 })).rejects.toThrow('the x2 output would be 1728 pixels (48×36), over the limit of 1727');
    expect((await sharp(await s.sharpen(png, { maxOutputPixels: 1728 })).metadata()).width).toBe(48);
    const raw = { data: new Uint8Array(24 * 18 * 3), width: 24, height: 18, channels: 3 as const };
    await expect(s.sharpenPixels(raw, { maxOutputPixels: 1000 })).rejects.toBeInstanceOf(InputError);
    await expect(s.sharpen(png, { maxOutputPixels: 0 })).rejects.toBeInstanceOf(ConfigError);
    // WebP holds at most 16383 pixels a side: a 8200×2 WebP at x2 fails before the work, as PNG it is written.
    const wide = await encodeImage({ data: new Uint8Array(8200 * 2 * 3), width: 8200, height: 2, channels: 3, bits: 8 }, 'png');
    await expect(s.sharpen(wide, { format: 'webp' })).rejects.toThrow(
      "<buffer>: the 16400×4 output is too large for WebP (at most 16383 pixels a side): use --format png / format: 'png'",
    );
    expect((await sharp(await s.sharpen(wide)).metadata()).width).toBe(16400);
  });

  it('sharpenFiles: a bomb fails on its own, the batch goes on', async () => {
    const dir = path.join(tmp, 'batch');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'a-bomb.png'), bomb);
    await fs.writeFile(path.join(dir, 'b.png'), await encodeImage({ data: new Uint8Array(8 * 6 * 3), width: 8, height: 6, channels: 3, bits: 8 }, 'png'));
    using s = await Student.load('bicubic', { scale: 2, backend: 'cpu' });
    const summary = await sharpenFiles(s, [dir], { output: path.join(tmp, 'batch-out') });
    expect(summary.failed).toEqual([{ file: path.join(dir, 'a-bomb.png'), reason: '400000000 pixels (20000×20000) is over the limit of 268402689 (--max-pixels / maxPixels)' }]);
    expect(summary.written.map((w) => path.basename(w.output))).toEqual(['b.png']);
    await expect(sharpenFiles(s, [dir], { output: path.join(tmp, 'batch-out'), maxPixels: 0 })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('multi-frame inputs', () => {
  it('each frame is sharpened on its own: tiles never reach into the next frame', async () => {
    using s = await Student.fromModel(tinyEspcn(2), { backend: 'cpu' });
    const [w, h] = [30, 26];
    const a = testImage(h, w, 1);
    const b = testImage(h, w, 2);
    const stacked = new Float32Array(a.length * 2);
    stacked.set(a);
    stacked.set(b, a.length);
    const buf = (data: Float32Array, frames: number) => ({ data, width: w, height: h * frames, channels: 3 as const });
    const numTensors = tf.memory().numTensors;
    const both = await sharpenFrames(s, buf(stacked, 2), 2, { tile: 20 });
    const one = [await s.sharpenPixels(buf(a, 1), { tile: 20 }), await s.sharpenPixels(buf(b, 1), { tile: 20 })];
    expect(tf.memory().numTensors).toBe(numTensors);
    expect([both.width, both.height]).toEqual([2 * w, 4 * h]);
    const half = one[0].data.length;
    expect(maxAbsDiff(both.data.subarray(0, half), one[0].data)).toBe(0);
    expect(maxAbsDiff(both.data.subarray(half), one[1].data)).toBe(0);
    // Whole, the stack would blend the frames at their border (the model sees across it).
    const whole = await s.sharpenPixels(buf(stacked, 2), { tile: 20 });
    expect(maxAbsDiff(whole.data.subarray(0, half), one[0].data)).toBeGreaterThan(1e-3);
  });

  it('animated WebP and GIF come back as animated WebP (every frame, delays and loop kept); PNG asked: the first frame, with a warning', async () => {
    using s = await Student.load('bicubic', { scale: 2, backend: 'cpu' });
    for (const format of ['webp', 'gif'] as const) {
      const warnings: SharpenWarning[] = [];
      const out = await s.sharpen(await twoFrames(format), { onWarning: (w) => warnings.push(w) });
      expect(warnings).toEqual([]);
      const m = await sharp(out).metadata();
      expect([m.format, m.pages, m.width, m.height, m.delay, m.loop]).toEqual(['webp', 2, 24, 20, [120, 340], 3]);
      const { data, info } = await sharp(out, { pages: -1 }).raw().toBuffer({ resolveWithObject: true });
      expect(info.height).toBe(40);
      // Flat frames stay flat up to their shared border: the last row of frame 1 is red, the first of frame 2 blue.
      expect(rowDiff(data, 24, info.channels, 19, RED)).toBeLessThan(6);
      expect(rowDiff(data, 24, info.channels, 20, BLUE)).toBeLessThan(6);
    }
    const warnings: SharpenWarning[] = [];
    const png = await s.sharpen(await twoFrames('gif'), { format: 'png', onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      {
        code: 'W_FIRST_FRAME',
        file: '<buffer>',
        message: "<buffer>: animated GIF with 2 frames: only the first is sharpened, as PNG holds one frame (--format webp / format: 'webp' keeps every frame)",
      },
    ]);
    const m = await sharp(png).metadata();
    expect([m.format, m.width, m.height, m.pages]).toEqual(['png', 24, 20, undefined]);
  });

  it('a multi-page TIFF: the first page, with a warning; the frame count counts toward maxPixels', async () => {
    using s = await Student.load('bicubic', { scale: 2, backend: 'cpu' });
    const warnings: SharpenWarning[] = [];
    const out = await s.sharpen(await twoFrames('tiff'), { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.code, w.message])).toEqual([['W_FIRST_FRAME', '<buffer>: TIFF with 2 pages: only the first page is sharpened']]);
    const m = await sharp(out).metadata();
    expect([m.format, m.width, m.height]).toEqual(['png', 24, 20]);
    // 12×10 × 2 frames = 240 decoded pixels.
    await expect(s.sharpen(await twoFrames('webp'), { maxPixels: 239 })).rejects.toThrow('240 pixels (12×10 × 2 frames) is over the limit of 239');
    expect(await s.sharpen(await twoFrames('webp'), { maxPixels: 239, format: 'jpeg' })).toBeInstanceOf(Uint8Array);
  });

  it('encodeImage writes an animation as WebP only', async () => {
    // Distinct frames (libwebp merges identical ones).
    const img = { data: Uint8Array.from({ length: 4 * 6 * 3 }, (_, i) => Math.floor(i / 24) * 80), width: 4, height: 6, channels: 3 as const, bits: 8 as const };
    await expect(encodeImage(img, 'png', { animation: { frames: 2 } })).rejects.toBeInstanceOf(ConfigError);
    await expect(encodeImage(img, 'webp', { animation: { frames: 4 } })).rejects.toBeInstanceOf(ConfigError);
    const m = await sharp(await encodeImage(img, 'webp', { animation: { frames: 3, delay: [50, 60, 70] } })).metadata();
    expect([m.pages, m.height, m.delay, m.loop]).toEqual([3, 2, [50, 60, 70], 0]);
  });
});
