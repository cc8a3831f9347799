import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { saveModel } from '../src/io/model-io';
import { buildStudent } from '../src/models/student';
import { writePngBomb } from './png-bomb';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

/** Runs the CLI from source with tsx; resolves with the exit code and output instead of throwing. */
async function cli(args: string[], nodeArgs: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } });
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
    expect(bad.stderr).toMatch(/unknown model "x9": use one of x1, x2, x2-fast, x4, x4-plus, bicubic/);
    const s3 = await cli(['sharpen', path.join(tmp, 'in/a.png'), '-o', tmp, '--scale', '3']);
    expect(s3.code).toBe(2);
    expect(s3.stderr).toMatch(/no shipped model for scale 3/);
  });

  it('a decompression bomb (60000×60000 PNG) is refused from its header: one E_INPUT line, the others written, exit 2, peak RSS < 1 GB', async () => {
    const dir = path.join(tmp, 'in-bomb');
    await fs.mkdir(dir);
    await png(path.join(dir, 'a.png'), 24, 18, 1);
    await writePngBomb(path.join(dir, 'bomb.png'), 60000);
    await png(path.join(dir, 'c.png'), 20, 16, 2);
    expect((await fs.stat(path.join(dir, 'bomb.png'))).size).toBeLessThan(1e6);
    // Every process of the command (a folder of images may run again in a child: src/cli/malloc-tuning.ts) records its
    // own peak resident set size (kB) as it exits; the largest is the one that did the work.
    const rssFile = path.join(tmp, 'max-rss.txt');
    const preload = path.join(tmp, 'max-rss.mjs');
    await fs.writeFile(preload, `import { appendFileSync } from 'node:fs';\nprocess.on('exit', () => appendFileSync(${JSON.stringify(rssFile)}, process.resourceUsage().maxRSS + '\\n'));\n`);
    const out = path.join(tmp, 'out-bomb');
    const r = await cli(['sharpen', dir, '-o', out, '--scale', '2', '--model', 'bicubic', '--backend', 'cpu'], ['--import', pathToFileURL(preload).href]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.includes('bomb.png'))).toEqual([
      `sharpen-kd: error: ${path.join(dir, 'bomb.png')}: 3600000000 pixels (60000×60000) is over the limit of 268402689 (--max-pixels / maxPixels)`,
    ]);
    expect(r.stderr).toMatch(/2 written, 1 failed, 0 skipped/);
    expect((await fs.readdir(out)).sort()).toEqual(['a.png', 'c.png']);
    const maxRssKb = Math.max(...(await fs.readFile(rssFile, 'utf8')).trim().split('\n').map(Number));
    process.stderr.write(`bomb batch: peak RSS ${(maxRssKb / 1024).toFixed(0)} MB\n`);
    expect(maxRssKb).toBeGreaterThan(10_000);
    expect(maxRssKb).toBeLessThan(1024 * 1024);

    // Both limits are flags: a.png (432 pixels) is over --max-pixels 400; c.png's x2 output (1280) over --max-output-pixels 1200.
    const small = await cli(['sharpen', path.join(dir, 'a.png'), path.join(dir, 'c.png'), '-o', path.join(tmp, 'out-limits'), '--scale', '2', '--model', 'bicubic', '--backend', 'cpu', '--max-pixels', '400', '--max-output-pixels', '1200']);
    expect(small.code).toBe(2);
    expect(small.stderr).toContain(`error: ${path.join(dir, 'a.png')}: 432 pixels (24×18) is over the limit of 400 (--max-pixels / maxPixels)`);
    expect(small.stderr).toContain(`error: ${path.join(dir, 'c.png')}: the x2 output would be 1280 pixels (40×32), over the limit of 1200 (--max-output-pixels / maxOutputPixels)`);
    expect(small.stderr).toMatch(/0 written, 2 failed, 0 skipped/);
  });

  it('animated WebP / GIF become animated WebP frame by frame; a multi-page TIFF or a PNG output: the first frame, with a warning', async () => {
    const dir = path.join(tmp, 'in-anim');
    await fs.mkdir(dir);
    // Two flat 12×10 frames, red then blue.
    const raw = Buffer.alloc(12 * 20 * 3);
    for (let i = 0; i < 12 * 20; i++) raw.set(i < 120 ? [200, 40, 40] : [40, 40, 200], i * 3);
    const frames = () => sharp(raw, { raw: { width: 12, height: 20, channels: 3, pageHeight: 10 } });
    await frames().webp({ lossless: true, delay: [120, 340], loop: 3 }).toFile(path.join(dir, 'w.webp'));
    await frames().gif({ delay: [120, 340], loop: 3 }).toFile(path.join(dir, 'g.gif'));
    await frames().tiff().toFile(path.join(dir, 't.tif'));
    const out = path.join(tmp, 'out-anim');
    const r = await cli(['sharpen', dir, '-o', out, '--scale', '2', '--model', 'bicubic', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect((await fs.readdir(out)).sort()).toEqual(['g.webp', 't.png', 'w.webp']);
    for (const f of ['g.webp', 'w.webp']) {
      const m = await sharp(path.join(out, f)).metadata();
      expect([m.pages, m.width, m.height, m.delay, m.loop]).toEqual([2, 24, 20, [120, 340], 3]);
      // Each frame was sharpened on its own: frame 1 ends red and frame 2 starts blue, with no blend across.
      const { data, info } = await sharp(path.join(out, f), { pages: -1 }).raw().toBuffer({ resolveWithObject: true });
      const px = (row: number) => Array.from(data.subarray(row * 24 * info.channels, row * 24 * info.channels + 3));
      for (const [row, rgb] of [[19, [200, 40, 40]], [20, [40, 40, 200]]] as const) px(row).forEach((v, c) => expect(Math.abs(v - rgb[c])).toBeLessThan(8));
    }
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning:'));
    expect(warnings).toEqual([`sharpen-kd: warning: ${path.join(dir, 't.tif')}: TIFF with 2 pages: only the first page is sharpened`]);
    expect((await sharp(path.join(out, 't.png')).metadata()).height).toBe(20);

    const asPng = await cli(['sharpen', path.join(dir, 'g.gif'), '-o', path.join(tmp, 'g-first.png'), '--scale', '2', '--model', 'bicubic', '--backend', 'cpu']);
    expect(asPng.code).toBe(0);
    expect(asPng.stderr).toContain(
      `sharpen-kd: warning: ${path.join(dir, 'g.gif')}: animated GIF with 2 frames: only the first is sharpened, as PNG holds one frame (--format webp / format: 'webp' keeps every frame)`,
    );
    const m = await sharp(path.join(tmp, 'g-first.png')).metadata();
    expect([m.format, m.width, m.height]).toEqual(['png', 24, 20]);
  });

  it('an argument error is one line and a pointer to the command help (exit code 1), not the whole usage', async () => {
    const cases: Array<[string[], string, string]> = [
      [['sharpen', 'x.png', '-o', tmp, '--max-pixels', '0'], `sharpen-kd: error: option '--max-pixels <n>' argument '0' is invalid. --max-pixels must be an integer from 1, got "0"`, 'sharpen-kd sharpen --help'],
      [['sharpen', 'x.png'], `sharpen-kd: error: required option '-o, --out <path>' not specified`, 'sharpen-kd sharpen --help'],
      [['train', '--scale', '2', '--out', tmp, '--bogus'], `sharpen-kd: error: unknown option '--bogus'`, 'sharpen-kd train --help'],
      [['score', tmp, '--scale', '2'], `sharpen-kd: error: missing required argument 'hrDir'`, 'sharpen-kd score --help'],
    ];
    for (const [args, first, help] of cases) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toEqual([first, `Run '${help}' for usage.`]);
    }
    const unknown = await cli(['sharpn', 'x.png']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).not.toMatch(/Usage:/);
    expect(unknown.stderr.trimEnd().split('\n').pop()).toBe("Run 'sharpen-kd --help' for usage.");
  });
});
