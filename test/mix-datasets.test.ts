import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { imageFolderDataset, syntheticDataset } from '../src/data/datasets';
import { mixDatasets } from '../src/data/mix';
import { ConfigError } from '../src/errors';
import { bicubicInput, protocolReference } from '../src/metrics/protocol';
import { buildStudent } from '../src/models/student';
import { buildTeacher } from '../src/models/teacher';
import { distill } from '../src/train/distill';
import { decodeFloat16 } from '../src/train/float16';
import { loadTeacherCache } from '../src/train/teacher-cache';

let dir: string;
const synthetic = (seed: number, patchSize = 12) => syntheticDataset({ scale: 2, patchSize, batchSize: 4, seed, images: 4, imageSize: 40 });

/** A 32x32 RGB image with structure in every channel. */
async function writeImage(file: string): Promise<Uint8Array> {
  const px = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + ((i / 96) | 0) * 11) % 256;
  await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(file);
  return px;
}

beforeAll(async () => {
  await useBackend('cpu');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-mix-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('mixDatasets', () => {
  it('takes batches from its parts in turn, each part the same stream as alone, and restores every part', async () => {
    const [a, b] = [synthetic(1), synthetic(2)];
    const [refA, refB] = [synthetic(1), synthetic(2)];
    const mixed = mixDatasets([a, b]);
    const expected = [await refA.nextArrays(), await refB.nextArrays(), await refA.nextArrays(), await refB.nextArrays(), await refA.nextArrays()];
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await mixed.nextArrays());
    got.forEach((g, i) => expect(Array.from(g.lr)).toEqual(Array.from(expected[i].lr)));
    expect(Array.from(got[1].lr)).not.toEqual(Array.from(got[0].lr));
    expect(mixed.state()).toEqual({ seed: 1, batch: 5 });
    // Batch 3 is part 1's batch 1.
    mixed.restore({ seed: 1, batch: 3 });
    expect(Array.from((await mixed.nextArrays()).hr)).toEqual(Array.from(expected[3].hr));
    expect(Array.from((await mixed.nextArrays()).hr)).toEqual(Array.from(expected[4].hr));
    expect(() => mixed.restore({ seed: 7, batch: 0 })).toThrow(ConfigError);
    expect(mixed.description).toBe(`mix(${a.description} | ${b.description})`);
    mixed.dispose();
    refA.dispose();
    refB.dispose();
  });

  it('refuses parts that disagree on patch size', () => {
    expect(() => mixDatasets([synthetic(1), synthetic(2, 8)])).toThrow(/share scale, patch size and batch size/);
    expect(() => mixDatasets([])).toThrow(ConfigError);
  });

  it('shrinks unlabeled inputs as the evaluation protocol makes its inputs', async () => {
    const folder = path.join(dir, 'shrink');
    await fs.mkdir(folder, { recursive: true });
    const px = await writeImage(path.join(folder, 'a.png'));
    const data = await imageFolderDataset(folder, { scale: 2, patchSize: 16, batchSize: 1, seed: 1, unlabeled: true, downscale: 2, augment: false });
    expect(data.description).toContain('unlabeled/2');
    const a = await data.nextArrays();
    const want = bicubicInput(protocolReference({ width: 32, height: 32, channels: 3, data: px }, 2).rgb, 2);
    expect(want.width).toBe(16);
    expect(Array.from(a.lr, (v) => Math.round(v * 255))).toEqual(Array.from(want.data));
    data.dispose();
    await expect(imageFolderDataset(folder, { scale: 2, patchSize: 8, downscale: 2 })).rejects.toThrow(/applies to unlabeled inputs/);
    await expect(imageFolderDataset(folder, { scale: 2, patchSize: 8, unlabeled: true, downscale: 1.5 })).rejects.toThrow(ConfigError);
  });

  it('lets distill mix labelled patches with teacher-labelled inputs through the teacher cache', async () => {
    const folder = path.join(dir, 'extra');
    await fs.mkdir(folder, { recursive: true });
    await writeImage(path.join(folder, 'a.png'));
    const teacher = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, seed: 2 });
    const student = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 1, seed: 1 });
    const labelled = synthetic(1);
    const extra = await imageFolderDataset(folder, { scale: 2, patchSize: 12, batchSize: 4, seed: 1, unlabeled: true });
    const data = mixDatasets([labelled, extra]);
    expect(data.unlabeled).toBe(true);
    // The extra batches have no HR: without a cache there is no target for them.
    await expect(distill({ teacher, student, data, schedule: { steps: 2 } })).rejects.toThrow(ConfigError);
    const cacheDir = path.join(dir, 'cache-mixed');
    const r = await distill({ teacher, student, data, schedule: { steps: 3, lr: 3e-3, warmup: 1 }, cacheDir, cacheSize: 16, exportModels: false });
    expect(r.step).toBe(3);
    const cache = await loadTeacherCache(cacheDir);
    expect(cache.index.dtypes.hr).toBe('f16'); // the teacher's targets are not 8-bit
    const hr = decodeFloat16(cache.hr as Uint16Array);
    const n = 4 * 24 * 24 * 3;
    const ref = synthetic(1);
    const hr0 = (await ref.nextArrays()).hr;
    // Batches 0 and 2 are labelled (their HR kept), batches 1 and 3 are teacher-labelled (HR = the prediction).
    expect(hr.subarray(0, n).every((v, i) => Math.abs(v - hr0[i]) < 1e-3)).toBe(true);
    const sameAsTeacher = (b: number) => cache.hr.subarray(b * n, (b + 1) * n).every((v, i) => v === cache.teacher[b * n + i]);
    expect([0, 1, 2, 3].map(sameAsTeacher)).toEqual([false, true, false, true]);
    ref.dispose();
    data.dispose();
    student.dispose();
    teacher.dispose();
  });
});
