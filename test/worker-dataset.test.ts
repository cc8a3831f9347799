import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../src/errors';
import { openDataset } from '../src/data/datasets';
import { openDatasetInWorker } from '../src/data/worker-dataset';
import { writeImage } from '../src/io/node-image';
import type { PatchArrays } from '../src/data/types';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'skd-worker-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const same = (a: PatchArrays, b: PatchArrays) =>
  a.count === b.count && a.lrSize === b.lrSize && a.hrSize === b.hrSize && a.lr.every((v, i) => v === b.lr[i]) && a.hr.every((v, i) => v === b.hr[i]);

describe('openDatasetInWorker', () => {
  it('gives the stream openDataset gives, batch for batch, and resumes at the same place', async () => {
    // Blind x1 degradations (blur, motion blur, noise, JPEG) on images from a folder.
    for (let i = 0; i < 3; i++) {
      const data = Uint8Array.from({ length: 40 * 36 * 3 }, (_, k) => ((k * (i + 3) * 2654435761) >>> 24) & 0xff);
      await writeImage(path.join(tmp, `img${i}.png`), { data, width: 40, height: 36, channels: 3, bits: 8 });
    }
    const opts = { scale: 1 as const, patchSize: 16, batchSize: 3, seed: 7 };
    const here = await openDataset([tmp], opts);
    const there = await openDatasetInWorker([tmp], opts);
    try {
      expect(there.description).toBe(here.description);
      expect([there.scale, there.patchSize, there.batchSize]).toEqual([1, 16, 3]);
      const first = [await there.nextArrays(), await there.nextArrays(), await there.nextArrays()];
      for (const b of first) expect(same(b, await here.nextArrays())).toBe(true);
      expect(there.state()).toEqual({ seed: 7, batch: 3 });
      // Back to batch 1: the same batches again; and a jump ahead matches the in-thread stream's.
      there.restore({ seed: 7, batch: 1 });
      expect(same(await there.nextArrays(), first[1])).toBe(true);
      there.restore({ seed: 7, batch: 10 });
      here.restore({ seed: 7, batch: 10 });
      expect(same(await there.nextArrays(), await here.nextArrays())).toBe(true);
      expect(() => there.restore({ seed: 8, batch: 0 })).toThrow(ConfigError);
    } finally {
      there.dispose();
      here.dispose();
    }
    // After dispose, the stream says so instead of hanging.
    await expect(there.nextArrays()).rejects.toThrow(/disposed/);
  });

  it('gives synthetic images as openDataset does, and reports bad data as typed errors from the worker', async () => {
    const opts = { scale: 2 as const, patchSize: 8, batchSize: 2, seed: 3 };
    const here = await openDataset([], opts);
    const there = await openDatasetInWorker([], opts);
    expect(same(await there.nextArrays(), await here.nextArrays())).toBe(true);
    there.dispose();
    here.dispose();
    await expect(openDatasetInWorker([path.join(tmp, 'missing')], opts)).rejects.toBeInstanceOf(InputError);
    await expect(openDatasetInWorker([tmp], { ...opts, patchSize: 2 })).rejects.toBeInstanceOf(ConfigError);
  });
});
