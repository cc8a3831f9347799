import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../src/io/model-io';
import { buildStudent } from '../src/models/student';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

/** Runs the CLI from source with tsx; resolves with the exit code and output instead of throwing. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function png(file: string, w: number, h: number, seed: number): Promise<void> {
  const b = Buffer.alloc(w * h * 3);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 17 + ((i / 3) % w) * 5) % 256;
  await sharp(b, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-cli-'));
  await fs.mkdir(path.join(tmp, 'in/sub'), { recursive: true });
  await png(path.join(tmp, 'in/a.png'), 24, 18, 1);
  // A corrupt file in the middle of the batch (sorted: a, b-corrupt, c).
  const good = await fs.readFile(path.join(tmp, 'in/a.png'));
  await fs.writeFile(path.join(tmp, 'in/b-corrupt.png'), good.subarray(0, Math.floor(good.length / 2)));
  await png(path.join(tmp, 'in/c.png'), 20, 16, 2);
  await fs.writeFile(path.join(tmp, 'in/notes.txt'), 'not an image');
  await png(path.join(tmp, 'in/sub/d.png'), 10, 10, 3);
  await saveModel(buildStudent({ arch: 'espcn', scale: 2, width: 4, seed: 1 }), path.join(tmp, 'model'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('sharpen-kd sharpen (CLI)', () => {
  it('a corrupt file mid-batch: one clear line, exit 2, summary, no partial file, the others done', async () => {
    const out = path.join(tmp, 'out');
    const r = await cli(['sharpen', path.join(tmp, 'in'), '-o', out, '--model', path.join(tmp, 'model'), '--backend', 'cpu', '--tile', '32']);
    expect(r.code).toBe(2);
    const errLines = r.stderr.split('\n').filter((l) => l.includes('b-corrupt.png'));
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(/error: .*b-corrupt\.png: cannot decode image/);
    expect(r.stderr).toMatch(/skipped: .*notes\.txt: not an image/);
    expect(r.stderr).toMatch(/2 written, 1 failed, 2 skipped/); // notes.txt and sub/ (no --recursive)
    expect((await fs.readdir(out)).sort()).toEqual(['a.png', 'c.png']);
    const meta = await sharp(path.join(out, 'a.png')).metadata();
    expect([meta.width, meta.height]).toEqual([48, 36]);
  });

  it('--recursive keeps the folder structure; inputs are never overwritten without --overwrite', async () => {
    const out = path.join(tmp, 'out-r');
    const r = await cli(['sharpen', path.join(tmp, 'in'), '-o', out, '--model', 'bicubic', '--scale', '2', '--backend', 'cpu', '--recursive']);
    expect(r.code).toBe(2);
    expect((await sharp(path.join(out, 'sub/d.png')).metadata()).width).toBe(20);

    const before = await fs.readFile(path.join(tmp, 'in/c.png'));
    const same = await cli(['sharpen', path.join(tmp, 'in/c.png'), '-o', path.join(tmp, 'in'), '--model', 'bicubic', '--scale', '2', '--backend', 'cpu']);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/skipped: .*c\.png: output .*c\.png is an input \(use --overwrite/);
    expect((await fs.readFile(path.join(tmp, 'in/c.png'))).equals(before)).toBe(true);
  });

  it('single file to a named output with --format; unknown model and scale 3 without a model are clear errors', async () => {
    const outFile = path.join(tmp, 'single.webp');
    const r = await cli(['sharpen', path.join(tmp, 'in/a.png'), '-o', outFile, '--model', 'bicubic', '--scale', '3', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const m = await sharp(outFile).metadata();
    expect([m.format, m.width]).toEqual(['webp', 72]);

    const bad = await cli(['sharpen', path.join(tmp, 'in/a.png'), '-o', tmp, '--model', 'x9']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown model "x9": use one of x1, x2, x4, bicubic/);
    const s3 = await cli(['sharpen', path.join(tmp, 'in/a.png'), '-o', tmp, '--scale', '3']);
    expect(s3.code).toBe(2);
    expect(s3.stderr).toMatch(/no shipped model for scale 3/);
  });
});
