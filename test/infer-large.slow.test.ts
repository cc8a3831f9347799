// An 8000x6000 image through a x2 student: must work with memory bounded by the tile size (the decoded 8-bit input
// and output are held; nothing image-sized is float). Reports peak RSS. Run: npx vitest run -c vitest.slow.config.ts test/infer-large.slow.test.ts
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { sharpenFiles } from '../src/infer/batch';
import { Student } from '../src/infer/student';
import { buildStudent } from '../src/models/student';

const W = 8000;
const H = 6000;
let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-large-'));
  // Made in a child process so that this process's peak RSS only reflects sharpening.
  const script = `
    const sharp = require('sharp');
    const [W, H, out] = [${W}, ${H}, ${JSON.stringify(path.join(tmp, 'big.png'))}];
    const b = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      b[i] = (x * 255 / W) | 0; b[i + 1] = (y * 255 / H) | 0; b[i + 2] = ((x >> 5) + (y >> 5)) % 2 ? 200 : 40;
    }
    sharp(b, { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 1 }).toFile(out).then(() => 0);
  `;
  await promisify(execFile)(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..') });
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('large images', () => {
  it(`${W}x${H} at x2 -> ${2 * W}x${2 * H}, peak RSS bounded, output exact at a sample crop`, async () => {
    await useBackend('wasm');
    const model = buildStudent({ arch: 'espcn', scale: 2, width: 8, seed: 1 });
    using student = await Student.fromModel(model, { borrowModel: true });
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    let tiles = 0;
    const summary = await sharpenFiles(student, [path.join(tmp, 'big.png')], {
      output: path.join(tmp, 'out'),
      onProgress: (p) => (tiles = p.total ?? 0),
    });
    const seconds = (performance.now() - t0) / 1000;
    const peakMB = process.resourceUsage().maxRSS / 1024;
    expect(summary.failed).toEqual([]);
    const out = path.join(tmp, 'out/big.png');
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([2 * W, 2 * H]);
    // Raw 8-bit input + output alone are 144 MB + 576 MB; a whole-image float pass would need > 5 GB.
    console.log(
      `[large] ${W}x${H} x2 on ${student.info.backend}: ${seconds.toFixed(1)} s, ${tiles} tiles, ` +
        `RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MB, peak ${peakMB.toFixed(0)} MB`,
    );
    expect(peakMB).toBeLessThan(2500);

    // A crop in the middle equals the model run on that region with enough context.
    const [cx, cy, cw, ch, ctx] = [4100, 3000, 64, 48, 16];
    const { data: inCrop } = await sharp(path.join(tmp, 'big.png'))
      .extract({ left: cx - ctx, top: cy - ctx, width: cw + 2 * ctx, height: ch + 2 * ctx })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const ref = tf.tidy(() => {
      const x = tf.div(tf.tensor4d(new Float32Array(inCrop), [1, ch + 2 * ctx, cw + 2 * ctx, 3]), 255);
      const y = model.predict(x) as tf.Tensor4D;
      return tf.round(tf.mul(tf.clipByValue(tf.slice(y, [0, 2 * ctx, 2 * ctx, 0], [1, 2 * ch, 2 * cw, 3]), 0, 1), 255));
    });
    const refData = await ref.data();
    ref.dispose();
    const got = await sharp(out).extract({ left: 2 * cx, top: 2 * cy, width: 2 * cw, height: 2 * ch }).raw().toBuffer();
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - refData[i]));
    expect(maxDiff).toBeLessThanOrEqual(1);
    model.dispose();
  });
});
