// The shipped model.onnx files (built once, run by Student.load without TF.js), the ORT-CPU export target, and the
// ONNX Runtime thread / spinning options.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOnnxRunner, resolveSpinning } from '../src/backends/onnx-runner';
import { benchmarkFps } from '../src/bench/fps';
import { onOffOption } from '../src/cli/options';
import { ConfigError } from '../src/errors';
import { LumaDetailTail } from '../src/infer/luma-detail-tail';
import { Student, studentInternals } from '../src/infer/student';
import { buildStudentOnnx } from '../src/infer/student-onnx-build';
import { findStudentOnnx, modelSourceHash, STUDENT_ONNX_FILE, STUDENT_ONNX_KEY } from '../src/infer/student-onnx';
import { loadModel, saveModel } from '../src/io/model-io';
import { describeModel } from '../src/models/describe';
import { modelToOnnx } from '../src/models/onnx/export';
import { readOnnxMetadata } from '../src/models/onnx/proto';
import { buildStudent } from '../src/models/student';
import { recordingOrt } from './fake-ort';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-student-onnx-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('shipped model.onnx', () => {
  it.each(['x1', 'x2', 'x2-fast', 'x4', 'x4-plus'])('models/%s/model.onnx is byte for byte a fresh export of that model (scripts/export-student-onnx.ts)', async (name) => {
    const dir = path.join('models', name);
    const model = await loadModel(dir);
    try {
      const fresh = await buildStudentOnnx(model, await modelSourceHash(dir));
      const shipped = new Uint8Array(await fs.readFile(path.join(dir, STUDENT_ONNX_FILE)));
      expect(Buffer.from(shipped).equals(Buffer.from(fresh)), `${dir}/model.onnx is stale: run npx tsx scripts/export-student-onnx.ts`).toBe(true);
      const found = await findStudentOnnx(dir);
      expect(found?.info.scale).toBe(Number(name.slice(1, 2)));
      expect(found?.info.params).toBe(model.countParams());
    } finally {
      model.dispose();
    }
  });

  it('is in the npm package: package.json "files" ships models/', async () => {
    const pkg = JSON.parse(await fs.readFile('package.json', 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('models');
  });

  it('runs the same as the converted layers model, reports the layers model\'s info, and GFLOPs in bench', async () => {
    const shipped = await Student.load('x4', { backend: 'onnx', threads: 1 });
    const model = await loadModel('models/x4');
    const converted = await Student.fromModel(model, { backend: 'onnx', threads: 1, name: 'x4' });
    try {
      expect(studentInternals(shipped).model).toBeUndefined();
      expect(studentInternals(converted).model).toBeDefined();
      expect(shipped.info).toEqual(converted.info);
      const x = new Float32Array(40 * 52 * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255);
      const a = await studentInternals(shipped).runner.run(x, 40, 52, 3);
      const b = await studentInternals(converted).runner.run(x, 40, 52, 3);
      expect(maxAbs(a, b)).toBe(0);
      const r = await benchmarkFps({ model: shipped, width: 128, height: 96, runs: 1, warmup: 0, reference: false });
      expect(r.params).toBe(model.countParams());
      expect(r.gflops).toBeCloseTo(describeModel(model, { inputSize: [24, 32] }).flops / 1e9, 9);
    } finally {
      shipped.dispose();
      converted.dispose();
    }
  });

  it.each([
    ['x4', 4, 52],
    ['x2', 2, 53], // an odd width at ×2: the tail pads one column
    ['x4-plus', 4, 37],
  ] as const)('%s: the graph cut before the pixel shuffle of its luma detail plus the WebAssembly output stage gives the whole graph\'s RGB', async (name, scale, w) => {
    const tailed = await Student.load(name, { backend: 'onnx', threads: 1 });
    const whole = await Student.load(name, { backend: 'onnx', threads: 1, lumaDetailTail: false });
    try {
      expect(tailed.scale).toBe(scale);
      const h = 41;
      // Values beyond [0, 1] too: the stage adds and does not clamp, as the graph.
      const x = new Float32Array(3 * h * w).map((_, i) => ((i * 2654435761) >>> 24) / 200 - 0.1);
      const stage = vi.spyOn(LumaDetailTail.prototype, 'rgbFromPhases');
      const a = await studentInternals(tailed).runner.run(x, h, w, 3);
      expect(stage).toHaveBeenCalledTimes(1);
      const b = await studentInternals(whole).runner.run(x, h, w, 3);
      expect(stage).toHaveBeenCalledTimes(1);
      stage.mockRestore();
      expect(a.length).toBe(3 * h * scale * w * scale);
      expect(maxAbs(a, b)).toBeLessThan(2e-6);
    } finally {
      tailed.dispose();
      whole.dispose();
    }
  });

  it('a transient run returns a view of the output stage\'s memory (the next run overwrites it); concurrent sharpens keep their own pixels', async () => {
    const student = await Student.load('x4', { backend: 'onnx', threads: 1 });
    try {
      const { runner } = studentInternals(student);
      const [h, w] = [9, 12];
      const x = new Float32Array(3 * h * w).map((_, i) => ((i * 2654435761) >>> 24) / 255);
      const y = new Float32Array(3 * h * w).map((_, i) => ((i * 40503) % 251) / 251);
      const kept = await runner.run(x, h, w, 3);
      const view = await runner.run(x, h, w, 3, { transient: true });
      expect(view).toEqual(kept);
      const next = await runner.run(y, h, w, 3, { transient: true });
      expect(next.buffer).toBe(view.buffer); // the same memory, now holding y's output
      expect(maxAbs(view, kept)).toBeGreaterThan(0.01);
      expect(maxAbs(kept, await runner.run(x, h, w, 3))).toBe(0); // a kept result is its own array
      // Images sharpened at the same time on one Student (tiled and untiled) each get their own output.
      const img = (seed: number, width: number, height: number) => ({
        data: new Uint8Array(width * height * 3).map((_, i) => ((i + seed) * 2654435761) >>> 24),
        width,
        height,
        channels: 3 as const,
        bits: 8 as const,
      });
      const imgs = [img(1, 80, 60), img(2, 80, 60), img(3, 110, 90), img(4, 33, 21)];
      const alone: ArrayLike<number>[] = [];
      for (const im of imgs) alone.push((await student.sharpenPixels(im, { tile: 40 })).data);
      const together = await Promise.all(imgs.map((im) => student.sharpenPixels(im, { tile: 40 })));
      together.forEach((r, i) => expect(Buffer.from(r.data).equals(Buffer.from(alone[i] as Uint8Array))).toBe(true));
      const whole = await Promise.all(imgs.map((im) => student.sharpenPixels(im)));
      const wholeAlone: ArrayLike<number>[] = [];
      for (const im of imgs) wholeAlone.push((await student.sharpenPixels(im)).data);
      whole.forEach((r, i) => expect(Buffer.from(r.data).equals(Buffer.from(wholeAlone[i] as Uint8Array))).toBe(true));
    } finally {
      student.dispose();
    }
  });

  it('the output stage from the detail and from its sub-pixel phases agree bit for bit, at any width', () => {
    const tail = LumaDetailTail.create()!;
    for (const [scale, w, h] of [[4, 8, 3], [4, 5, 2], [2, 7, 3], [2, 12, 1], [4, 1, 1]] as const) {
      const [W, H] = [w * scale, h * scale];
      const x = new Float32Array(3 * w * h).map((_, i) => ((i * 2654435761) >>> 24) / 255);
      const phases = new Float32Array(W * H).map((_, i) => ((i * 40503) % 97) / 97 - 0.5);
      // The pixel shuffle: phase i·s + j, pixel (y, x) → output (s·y + i, s·x + j).
      const detail = new Float32Array(W * H);
      for (let p = 0; p < scale * scale; p++) {
        for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) detail[(scale * y + Math.floor(p / scale)) * W + scale * c + (p % scale)] = phases[(p * h + y) * w + c];
      }
      const a = tail.rgb(x, detail, w, h, scale);
      expect(tail.rgbFromPhases(x, phases, w, h, scale)).toEqual(a);
      // Corner pixels: the input's own value (edges clamped) plus the detail.
      expect(a[0]).toBeCloseTo(x[0] + detail[0], 6);
      expect(a[2 * W * H + W * H - 1]).toBeCloseTo(x[3 * w * h - 1] + detail[W * H - 1], 6);
    }
  });

  it('a model.onnx that does not match its model (weights or model.json changed) is ignored, and the model converted', async () => {
    const dir = path.join(tmp, 'x4');
    await fs.cp('models/x4', dir, { recursive: true });
    expect(await findStudentOnnx(dir)).toBeDefined();
    expect(await findStudentOnnx(path.join(dir, 'model.json'))).toBeDefined();
    // Re-indenting model.json changes nothing (hashed as parsed JSON).
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')), null, 1).replace(/\n/g, '\r\n'));
    expect(await findStudentOnnx(dir)).toBeDefined();
    const w = await fs.readFile(path.join(dir, 'weights.bin'));
    w[100] ^= 1;
    await fs.writeFile(path.join(dir, 'weights.bin'), w);
    expect(await findStudentOnnx(dir)).toBeUndefined();
    const s = await Student.load(dir, { backend: 'onnx', threads: 1 });
    try {
      expect(s.info.backend).toBe('onnx');
      expect(studentInternals(s).model).toBeDefined(); // converted from the layers model
    } finally {
      s.dispose();
    }
    await fs.rm(path.join(dir, STUDENT_ONNX_FILE));
    expect(await findStudentOnnx(dir)).toBeUndefined();
  });

  it('a model.onnx served over http (folder or model.json URL) is fetched and checked against its model like a local one', async () => {
    const dir = path.join(tmp, 'served');
    await fs.cp('models/x2', path.join(dir, 'x2'), { recursive: true });
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      fs.readFile(path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))).then(
        (b) => res.end(b),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/x2`;
    try {
      const local = await findStudentOnnx(path.join(dir, 'x2'));
      const byFolder = await findStudentOnnx(base);
      const byJson = await findStudentOnnx(`${base}/model.json`);
      expect(byFolder?.info).toEqual(local?.info);
      expect(byJson?.path).toBe(`${base}/model.onnx`);
      expect(byJson?.bytes).toEqual(local?.bytes);
      const w = await fs.readFile(path.join(dir, 'x2', 'weights.bin'));
      w[7] ^= 1;
      await fs.writeFile(path.join(dir, 'x2', 'weights.bin'), w);
      expect(await findStudentOnnx(`${base}/model.json`)).toBeUndefined(); // stale
      await fs.rm(path.join(dir, 'x2', STUDENT_ONNX_FILE));
      expect(await findStudentOnnx(base)).toBeUndefined(); // 404
      expect(await findStudentOnnx('data:application/json,{}')).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it('sharpens tensors (int32 too) and RGBA images: alpha goes through TF.js, imported on demand', async () => {
    const s = await Student.load('x2', { backend: 'onnx', threads: 1 });
    try {
      const t = tf.fill([6, 5, 3], 0.5) as tf.Tensor3D;
      const y = await s.sharpen(t);
      expect(y.shape).toEqual([12, 10, 3]);
      const ti = tf.fill([6, 5, 3], 1, 'int32') as tf.Tensor3D;
      const yi = await s.sharpen(ti);
      expect(yi.shape).toEqual([12, 10, 3]);
      const rgba = { data: new Uint8Array(7 * 9 * 4).fill(200), width: 9, height: 7, channels: 4 as const, bits: 8 as const };
      const out = await s.sharpen(rgba);
      expect([out.width, out.height, out.channels]).toEqual([18, 14, 4]);
      expect(Math.abs(out.data[3] - 200)).toBeLessThanOrEqual(1);
      tf.dispose([t, y, ti, yi]);
    } finally {
      s.dispose();
    }
  });

  it('refuses a scale the shipped file does not have, as for converted models', async () => {
    await expect(Student.load('x4', { backend: 'onnx', scale: 2 })).rejects.toThrow(/upscales by 4, not 2/);
  });
});

describe("export target 'ort-cpu'", () => {
  it('replaces every PRelu by depthwise conv + Relu + Add with the same output, also for slopes over 1 or under 0', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, seed: 3 });
    const prelu = m.layers.find((l) => l.getClassName() === 'PReLU')!;
    const [alpha] = prelu.getWeights();
    prelu.setWeights([tf.tensor(Float32Array.from({ length: 8 }, (_, i) => [-0.5, 0.2, 1.5, 3, 0, 1, 0.9, -2][i]), alpha.shape)]);
    const any = modelToOnnx(m);
    const cpu = modelToOnnx(m, { target: 'ort-cpu', metadata: { note: 'x' } });
    const ops = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    expect(ops(any)).toContain('PRelu');
    expect(ops(cpu)).not.toContain('PRelu');
    expect(readOnnxMetadata(cpu).note).toBe('x');
    expect(readOnnxMetadata(cpu).layout).toBe('nhwc');
    const x = tf.randomUniform([1, 11, 9, 3], -1, 2, 'float32', 5);
    const ref = (m.predict(x) as tf.Tensor).dataSync() as Float32Array;
    for (const bytes of [any, cpu]) {
      const r = await createOnnxRunner(bytes, { threads: 1 });
      const y = (await r.run(x.dataSync() as Float32Array, [1, 11, 9, 3])).data;
      expect(maxAbs(y, ref)).toBeLessThan(1e-5);
      await r.dispose();
    }
    expect(() => modelToOnnx(m, { target: 'gpu' as never })).toThrow(ConfigError);
    x.dispose();
    m.dispose();
  });

  it('metadata of a saved student round-trips through the file Student reads', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, seed: 1 });
    const dir = path.join(tmp, 'mine');
    await saveModel(m, dir);
    const bytes = await buildStudentOnnx(m, await modelSourceHash(dir));
    await fs.writeFile(path.join(dir, STUDENT_ONNX_FILE), bytes);
    const info = JSON.parse(readOnnxMetadata(bytes)[STUDENT_ONNX_KEY]) as { scale: number; params: number };
    expect(info.scale).toBe(2);
    expect(info.params).toBe(m.countParams());
    const s = await Student.load(dir, { threads: 1 });
    try {
      expect(s.info.backend).toBe('onnx');
      expect(studentInternals(s).model).toBeUndefined();
    } finally {
      s.dispose();
      m.dispose();
    }
  });
});

describe('ONNX Runtime threads and spinning', () => {
  it('spins by default; spinning: false or SHARPEN_KD_ORT_SPINNING=off turns it off; the option wins', async () => {
    const { ort, created } = recordingOrt();
    const before = process.env.SHARPEN_KD_ORT_SPINNING;
    try {
      delete process.env.SHARPEN_KD_ORT_SPINNING;
      await (await createOnnxRunner(new Uint8Array(4), { ort })).dispose();
      await (await createOnnxRunner(new Uint8Array(4), { ort, spinning: false })).dispose();
      process.env.SHARPEN_KD_ORT_SPINNING = 'off';
      await (await createOnnxRunner(new Uint8Array(4), { ort })).dispose();
      await (await createOnnxRunner(new Uint8Array(4), { ort, spinning: true })).dispose();
      process.env.SHARPEN_KD_ORT_SPINNING = 'sometimes';
      await expect(createOnnxRunner(new Uint8Array(4), { ort })).rejects.toThrow(/SHARPEN_KD_ORT_SPINNING must be on or off/);
    } finally {
      if (before === undefined) delete process.env.SHARPEN_KD_ORT_SPINNING;
      else process.env.SHARPEN_KD_ORT_SPINNING = before;
    }
    expect(created.map((o) => (o.extra as { session: { intra_op: { allow_spinning: string } } }).session.intra_op.allow_spinning)).toEqual(['1', '0', '0', '1']);
    expect(created[0].intraOpNumThreads).toBe(os.availableParallelism());
  });

  it('validates threads and spinning (typed errors, before any engine is tried)', async () => {
    const { ort } = recordingOrt();
    for (const threads of [0, -1, 1.5, Number.NaN]) {
      await expect(createOnnxRunner(new Uint8Array(4), { ort, threads })).rejects.toThrow(ConfigError);
      await expect(Student.load('x4', { threads })).rejects.toThrow(ConfigError);
    }
    await expect(Student.load('x4', { spinning: 'yes' as never })).rejects.toThrow(ConfigError);
    expect(() => resolveSpinning('no' as never)).toThrow(ConfigError);
    expect([resolveSpinning(undefined, 'ON'), resolveSpinning(undefined, '0'), resolveSpinning(undefined, ''), resolveSpinning(false, 'on')]).toEqual([true, false, true, false]);
    const spinningOption = onOffOption('--spinning');
    expect([spinningOption('on'), spinningOption('OFF')]).toEqual([true, false]);
    expect(() => spinningOption('maybe')).toThrow(/--spinning takes on or off, got "maybe"/);
  });
});
