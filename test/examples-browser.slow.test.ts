/**
 * The browser demo (examples/browser), end to end in headless Chromium: build it with Vite against the built library,
 * serve it on 127.0.0.1, load an image through the page's file input, and check the canvas the page paints against
 * the same model run in Node. A second page load without model files checks the visible bicubic fallback. The live
 * video page (video.html) plays a clip generated with ffmpeg, then its canvas test pattern, and must paint frames.
 *
 * Needs `npm run build` and Debian's chromium (`apt-get install chromium`, or CHROMIUM_PATH). Run with
 * `npm run test:browser`, which fails when either is missing; in the slow suite the test is skipped instead.
 */
import * as fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { useBackend } from '../src/backends/use-backend';
import { Student } from '../src/infer/student';
import { buildStudent } from '../src/models/student';
import { saveModel } from '../src/io/model-io';
import { encodeImage } from '../src/io/node-image';
import { proceduralImage } from '../src/data/procedural';
import { syntheticDataset } from '../src/data/datasets';
import { train } from '../src/train/train';
import type { RawImage } from '../src/io/raw-image';
import { findFfmpeg, runFfmpeg } from '../src/video/ffmpeg';

const repo = path.resolve(import.meta.dirname, '..');
const strict = process.env.SHARPEN_KD_EXAMPLES_STRICT === '1';
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = [
  existsSync(path.join(repo, 'dist/index.js')) ? '' : 'dist/ (run `npm run build`)',
  existsSync(chromiumPath) ? '' : `${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`,
].filter(Boolean);
if (missing.length && strict) throw new Error(`browser test prerequisites missing: ${missing.join(', ')}`);

const W = 128;
const H = 96;
const SCALE = 4;

let tmp: string;
let modelsDir: string;
let emptyDir: string;
let pngPath: string;
let input: RawImage;
let server: PreviewServer;
let url: string;
let context: BrowserContext;
let modelSource = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The model folders the page will serve: the shipped x4 and x2, or a briefly trained compact x4 student. */
async function prepareModel(dir: string): Promise<void> {
  const shipped = path.join(repo, 'models', 'x4');
  if (existsSync(path.join(shipped, 'model.json'))) {
    await fs.cp(shipped, path.join(dir, 'x4'), { recursive: true });
    await fs.cp(path.join(repo, 'models', 'x2'), path.join(dir, 'x2'), { recursive: true });
    modelSource = 'shipped models/x4';
    return;
  }
  await useBackend('wasm');
  const model = buildStudent({ arch: 'compact', scale: SCALE, width: 8, depth: 2, seed: 3 });
  const data = syntheticDataset({ scale: SCALE, patchSize: 12, batchSize: 4, images: 4, imageSize: 96, seed: 3 });
  await train({ student: model, data, schedule: { steps: 15, lr: 3e-3, warmup: 2 } });
  await saveModel(model, path.join(dir, 'x4'));
  model.dispose();
  data.dispose();
  modelSource = 'a compact student trained for 15 steps (models/x4 is not there yet)';
}

/** Pixels of a canvas as RGBA bytes. */
async function canvasPixels(page: Page, id: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const r = await page.evaluate((canvasId) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, b64: btoa(s) };
  }, id);
  return { width: r.width, height: r.height, data: new Uint8Array(Buffer.from(r.b64, 'base64')) };
}

/** RGB differences between an RGBA canvas and an RGB RawImage: mean, 99th percentile and max, in 8-bit levels. */
function diff(rgba: Uint8Array, rgb: RawImage): { mean: number; p99: number; max: number } {
  const src = rgb.data as Uint8Array;
  const hist = new Float64Array(256);
  let sum = 0;
  const n = rgb.width * rgb.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(rgba[4 * i + c] - src[3 * i + c]);
      hist[d]++;
      sum += d;
    }
  }
  let acc = 0;
  let p99 = 0;
  for (let d = 0; d < 256; d++) {
    acc += hist[d];
    if (acc < 0.99 * 3 * n) p99 = d + 1;
  }
  let max = 255;
  while (max > 0 && hist[max] === 0) max--;
  return { mean: sum / (3 * n), p99, max };
}

function stdDev(rgba: Uint8Array): number {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      s += rgba[i + c];
      s2 += rgba[i + c] ** 2;
      n++;
    }
  }
  return Math.sqrt(s2 / n - (s / n) ** 2);
}

async function sharpenInNode(model: string, opts: { scale?: number } = {}): Promise<RawImage> {
  const s = await Student.load(model, { backend: 'wasm', ...opts });
  try {
    return await s.sharpen(input);
  } finally {
    s.dispose();
  }
}

async function openAndUpscale(): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
  await page.setInputFiles('#file', pngPath);
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 180_000 });
  const state = await page.getAttribute('body', 'data-state');
  if (state !== 'done') throw new Error(`page failed: ${await page.textContent('#status')} ${errors.join('; ')}`);
  expect(errors).toEqual([]);
  return page;
}

describe.skipIf(missing.length > 0)('browser demo (examples/browser) in headless Chromium', () => {
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-browser-'));
    modelsDir = path.join(tmp, 'models');
    emptyDir = path.join(tmp, 'no-models');
    await fs.mkdir(modelsDir);
    await fs.mkdir(emptyDir);
    await prepareModel(modelsDir);

    const img = proceduralImage(42, W, H);
    input = { data: img.data as Uint8Array, width: W, height: H, channels: 3, bits: 8 };
    pngPath = path.join(tmp, 'input.png');
    await fs.writeFile(pngPath, await encodeImage(input, 'png'));

    process.env.SHARPEN_KD_MODELS = modelsDir;
    const vite = await import('vite');
    const configFile = path.join(repo, 'examples/browser/vite.config.ts');
    const outDir = path.join(tmp, 'site');
    await vite.build({ configFile, logLevel: 'warn', build: { outDir } });
    const port = await freePort();
    server = await vite.preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port, strictPort: true, open: false } });
    url = `http://127.0.0.1:${port}/`;

    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1100, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    delete process.env.SHARPEN_KD_MODELS;
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('upscales a dropped image with the served x4 student: same pixels as in Node, unlike bicubic', async () => {
    process.env.SHARPEN_KD_MODELS = modelsDir;
    const page = await openAndUpscale();
    expect(await page.getAttribute('body', 'data-model')).toBe('x4');
    // 'auto': ONNX Runtime, on wasm (headless Chromium has no WebGPU adapter here).
    expect(await page.getAttribute('body', 'data-engine')).toBe('ONNX Runtime · wasm');
    expect(await page.isHidden('#note') || !(await page.textContent('#note'))?.includes('bicubic')).toBe(true);

    const out = await canvasPixels(page, 'after');
    expect([out.width, out.height]).toEqual([W * SCALE, H * SCALE]);
    expect(stdDev(out.data)).toBeGreaterThan(10); // not blank

    const bicubic = await sharpenInNode('bicubic', { scale: SCALE });
    const student = await sharpenInNode(path.join(modelsDir, 'x4'));
    const vsBicubic = diff(out.data, bicubic);
    const vsNode = diff(out.data, student);
    console.log(`browser demo (${modelSource}, ${await page.getAttribute('body', 'data-engine')}): vs Node student mean ${vsNode.mean.toFixed(3)} p99 ${vsNode.p99} max ${vsNode.max}; vs bicubic mean ${vsBicubic.mean.toFixed(2)}`);
    expect(vsBicubic.mean).toBeGreaterThan(1);
    expect(vsNode.mean).toBeLessThan(0.5);
    expect(vsNode.p99).toBeLessThanOrEqual(3);

    // The "before" side of the slider is bicubic, computed by the page.
    const before = await canvasPixels(page, 'before');
    expect(diff(before.data, bicubic).mean).toBeLessThan(0.5);

    // "Measure fps" times the same model on the same engine and says so (a figure is printed, not judged).
    await page.click('#fps');
    await page.waitForFunction(() => document.body.dataset.fps !== undefined || /failed/i.test(document.getElementById('fps-result')?.textContent ?? ''), undefined, { timeout: 300_000 });
    const fpsText = (await page.textContent('#fps-result')) ?? '';
    expect(fpsText).toMatch(/^x4 on ONNX Runtime · wasm: [\d.]+ fps \([\d.]+ ms per 1280×720 output frame/);
    expect(Number(await page.getAttribute('body', 'data-fps'))).toBeGreaterThan(0);
    console.log(`browser demo, Measure fps: ${fpsText}`);

    await page.fill('#slider', '35');
    await fs.mkdir(path.join(repo, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(repo, 'test-results', 'browser-demo.png'), fullPage: true });

    // The same image on TF.js WebAssembly: the .wasm binaries are served by Vite from node_modules.
    await page.selectOption('#backend', 'wasm');
    await page.waitForSelector('body[data-backend="wasm"][data-state="done"]', { timeout: 180_000 });
    const onWasm = await canvasPixels(page, 'after');
    const vsNodeWasm = diff(onWasm.data, student);
    expect(vsNodeWasm.mean).toBeLessThan(0.5);
    expect(vsNodeWasm.p99).toBeLessThanOrEqual(3);
    await page.close();
  });

  it('bench.html: the shipped x4 and x2 on every engine this Chromium has give Node\'s pixels; fps per engine printed', async () => {
    process.env.SHARPEN_KD_MODELS = modelsDir;
    expect(modelSource, 'the engine comparison runs the shipped students').toBe('shipped models/x4');
    type Row = { model: string; choice: string; engine?: string; skipped?: string; width: number; height: number; fps?: number; msMedian?: number; msP95?: number; check?: { width: number; height: number; rgb: string } };
    type Results = { rows: Row[]; crossOriginIsolated: boolean; hardwareConcurrency: number; userAgent: string };
    const bench = async (query: string): Promise<Results> => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${url}bench.html?autostart=1&check=1&models=x4,x2&${query}`);
        await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 900_000 });
        expect(await page.getAttribute('body', 'data-state'), (await page.textContent('#status')) ?? '').toBe('done');
        expect(errors).toEqual([]);
        await fs.mkdir(path.join(repo, 'test-results'), { recursive: true });
        if (query.includes('ort-wasm')) await page.screenshot({ path: path.join(repo, 'test-results', 'browser-engines.png'), fullPage: true });
        return (await page.evaluate(() => (window as unknown as { benchResults: unknown }).benchResults)) as Results;
      } finally {
        await page.close();
      }
    };
    // TF.js cpu (plain JavaScript) is an order of magnitude slower than the rest: fewer frames.
    const fast = await bench('engines=ort-webgpu,ort-wasm,webgpu,webgl,wasm&warmup=1&runs=5');
    const slow = await bench('engines=cpu&warmup=0&runs=2');
    expect(fast.crossOriginIsolated, 'the page is served with COOP/COEP: wasm threads need it').toBe(true);
    const rows = [...fast.rows, ...slow.rows];

    // Node's output for the same image: the same model.onnx on onnxruntime-node.
    const img = proceduralImage(42, 128, 96);
    const fixed: RawImage = { data: img.data as Uint8Array, width: 128, height: 96, channels: 3, bits: 8 };
    const node: Record<string, RawImage> = {};
    for (const m of ['x4', 'x2']) {
      const s = await Student.load(path.join(modelsDir, m), { backend: 'onnx' });
      try {
        expect(s.info.executionProvider).toBe('cpu');
        node[m] = await s.sharpen(fixed);
      } finally {
        s.dispose();
      }
    }
    const lines = [`| engine (Chromium ${/Chrome\/([\d.]+)/.exec(fast.userAgent)?.[1] ?? '?'}, headless) | model | output | fps | ms / frame (median) | max diff vs Node | samples that differ |`, '| --- | --- | --- | --- | --- | --- | --- |'];
    const mismatches: string[] = [];
    for (const r of rows) {
      if (r.skipped) {
        lines.push(`| ${r.choice} | ${r.model} | not available here: ${r.skipped} | | | | |`);
        continue;
      }
      const ref = node[r.model];
      const got = new Uint8Array(Buffer.from(r.check!.rgb, 'base64'));
      expect([r.check!.width, r.check!.height]).toEqual([ref.width, ref.height]);
      const want = ref.data as Uint8Array;
      let max = 0;
      let off = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        if (d > max) max = d;
        if (d > 0) off++;
      }
      lines.push(`| ${r.engine} | ${r.model} | ${r.width}×${r.height} | ${r.fps!.toFixed(2)} | ${r.msMedian!.toFixed(1)} | ${max} | ${off} of ${want.length} |`);
      if (max > 1) mismatches.push(`${r.engine} ${r.model}: max ${max}`);
    }
    console.log(`browser engines (cross-origin isolated: ${fast.crossOriginIsolated}, ${fast.hardwareConcurrency} threads):\n${lines.join('\n')}`);
    const ortWasm = rows.filter((r) => r.choice === 'ort-wasm');
    expect(ortWasm.map((r) => [r.model, r.engine])).toEqual([['x4', 'ONNX Runtime · wasm'], ['x2', 'ONNX Runtime · wasm']]);
    for (const r of rows.filter((x) => x.choice === 'ort-webgpu' || x.choice === 'webgpu')) if (!r.skipped) expect(r.engine).toMatch(/webgpu/);
    expect(mismatches, 'every engine gives Node\'s pixels within 1 level').toEqual([]);
  }, 1_500_000);

  it('trains a student in the browser on wasm (train.html): the loss falls as in Node, no tensor is left over', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const steps = 30;
    await page.goto(`${url}train.html?steps=${steps}&autostart=1`);
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 180_000 });
    expect(await page.getAttribute('body', 'data-state'), await page.textContent('#status') ?? '').toBe('done');
    expect(errors).toEqual([]);
    const r = JSON.parse((await page.textContent('#result'))!) as { backend: string; steps: number; losses: number[]; tensorsBefore: number; tensorsAfter: number };
    expect(r.backend).toBe('wasm');
    expect(r.steps).toBe(steps);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.8 * mean(r.losses.slice(0, 5)));

    // The same run in Node, on the same backend and kernels: the same loss curve up to float rounding.
    await useBackend('wasm');
    const { BROWSER_TRAINING_RUN: run } = await import('../examples/browser/train-run');
    const student = buildStudent(run.student);
    const data = syntheticDataset(run.data);
    const node = await train({ student, data, schedule: { ...run.schedule, steps } });
    student.dispose();
    data.dispose();
    const worst = Math.max(...node.history.map((h, i) => Math.abs(h.loss - r.losses[i]) / h.loss));
    console.log(`browser training: ${steps} steps, loss ${r.losses[0].toFixed(4)} -> ${r.losses[steps - 1].toFixed(4)}; largest relative difference from Node ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-3);
    await page.screenshot({ path: path.join(repo, 'test-results', 'browser-training.png'), fullPage: true });
    await page.close();
  });

  it('video.html sharpens a playing video live (a generated WebM through the file input, then the canvas test pattern)', async () => {
    process.env.SHARPEN_KD_MODELS = modelsDir;
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}video.html`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });

    // A 128x72 VP8 clip from ffmpeg's test source (ffmpeg: on PATH or the @ffmpeg-installer/ffmpeg devDependency).
    const ffmpeg = await findFfmpeg();
    const clip = path.join(tmp, 'clip.webm');
    const made = await runFfmpeg(ffmpeg.path, ['-hide_banner', '-y', '-f', 'lavfi', '-i', 'testsrc=size=128x72:rate=15:duration=4', '-c:v', 'libvpx', '-b:v', '400k', '-pix_fmt', 'yuv420p', clip]);
    expect(made.code, made.stderr).toBe(0);

    const watch = async (source: string, width: number, height: number): Promise<void> => {
      await page.waitForFunction(() => Number(document.body.dataset.frames ?? 0) >= 8 || document.body.dataset.state === 'error', undefined, { timeout: 180_000 });
      expect(await page.getAttribute('body', 'data-state'), (await page.textContent('#status')) ?? '').toBe('running');
      const tensors = Number(await page.getAttribute('body', 'data-tensors'));
      const framesNow = Number(await page.getAttribute('body', 'data-frames'));
      await page.waitForFunction((n) => Number(document.body.dataset.frames ?? 0) >= n + 4, framesNow, { timeout: 120_000 });
      // Both canvases in one task: the page's frame loop cannot paint the next frame in between.
      const [out, ref] = (
        await page.evaluate(() =>
          ['after', 'before'].map((id) => {
            const c = document.getElementById(id) as HTMLCanvasElement;
            const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
            let s = '';
            for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
            return { width: c.width, height: c.height, b64: btoa(s) };
          }),
        )
      ).map((r) => ({ width: r.width, height: r.height, data: new Uint8Array(Buffer.from(r.b64, 'base64')) }));
      expect([out.width, out.height]).toEqual([width * SCALE, height * SCALE]);
      expect(stdDev(out.data)).toBeGreaterThan(10); // not a blank canvas
      // The same frame as the browser's own scaling of it (painted from the same input), but not the same pixels.
      let d = 0;
      for (let i = 0; i < out.data.length; i += 4) for (let c = 0; c < 3; c++) d += Math.abs(out.data[i + c] - ref.data[i + c]);
      const mean = d / ((out.data.length / 4) * 3);
      expect(mean).toBeGreaterThan(0.3);
      expect(mean).toBeLessThan(25);
      // Every frame's tensors are freed.
      expect(Number(await page.getAttribute('body', 'data-tensors'))).toBe(tensors);
      const fps = await page.getAttribute('body', 'data-fps');
      console.log(`browser video (${source}, ${modelSource}): ${width}x${height} -> ${out.width}x${out.height} on ${await page.getAttribute('body', 'data-backend')}: ${fps} fps, ${await page.getAttribute('body', 'data-frames')} frames; vs the browser's scaling mean ${mean.toFixed(2)}`);
    };

    await page.setInputFiles('#file', clip);
    await watch('generated WebM', 128, 72);
    expect(await page.getAttribute('body', 'data-model')).toBe('x4');
    expect(['webgpu', 'webgl', 'wasm']).toContain(await page.getAttribute('body', 'data-backend'));
    await page.screenshot({ path: path.join(repo, 'test-results', 'browser-video.png'), fullPage: true });

    await page.evaluate(() => {
      document.body.dataset.frames = '0';
    });
    await page.click('#pattern');
    await watch('canvas test pattern', 240, 135);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without model files it says so and falls back to bicubic', async () => {
    process.env.SHARPEN_KD_MODELS = emptyDir;
    const page = await openAndUpscale();
    expect(await page.isVisible('#note')).toBe(true);
    expect(await page.textContent('#note')).toContain('No trained weights');
    expect(await page.getAttribute('body', 'data-model')).toBe('bicubic');
    const out = await canvasPixels(page, 'after');
    const d = diff(out.data, await sharpenInNode('bicubic', { scale: SCALE }));
    expect(d.mean).toBeLessThan(0.5);
    expect(d.max).toBeLessThanOrEqual(2);
    await page.close();
  });
});
