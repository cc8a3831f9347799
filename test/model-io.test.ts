import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { AbortError, ConfigError, ModelError } from '../src/errors';
import { loadModel, modelToArtifacts, saveModel } from '../src/io/model-io';
import { float32ToFloat16Bits } from '../src/io/model-io-quantize';
import { getModelInfo } from '../src/models/metadata';
import { buildStudent } from '../src/models/student';
import { buildTeacher } from '../src/models/teacher';

let tmp: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-model-io-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

async function roundTrip(model: tfl.LayersModel, dir: string, x: tf.Tensor4D, quantize?: 'float16' | 'uint8') {
  await saveModel(model, dir, { quantize });
  const loaded = await loadModel(dir);
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  const d = maxAbsDiff(a, b);
  tf.dispose([a, b]);
  return { loaded, d };
}

describe('saveModel / loadModel (Node, no tfjs-node)', () => {
  const x = () => tf.randomUniform([1, 9, 7, 3], 0, 1, 'float32', 11) as tf.Tensor4D;

  for (const arch of ['espcn', 'fsrcnn', 'compact'] as const) {
    it(`${arch}: save -> load gives identical outputs and keeps metadata`, async () => {
      const m = buildStudent({ arch, scale: 3, width: 8, seed: 1 });
      const xi = x();
      const dir = path.join(tmp, arch);
      const { loaded, d } = await roundTrip(m, dir, xi);
      expect(d).toBe(0);
      expect(getModelInfo(loaded)).toEqual(getModelInfo(m));
      expect((await fs.readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']); // no temp files left
      const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
      expect((await fs.stat(path.join(dir, 'weights.bin'))).size).toBe(m.countParams() * 4);
      xi.dispose();
      m.dispose();
      loaded.dispose();
    });
  }

  it('tiny teacher (custom pad/crop layers) round-trips; load by model.json path and file:// URL', async () => {
    const m = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, seed: 2 });
    const xi = x();
    const dir = path.join(tmp, 'teacher');
    const { loaded, d } = await roundTrip(m, dir, xi);
    expect(d).toBe(0);
    loaded.dispose();
    const viaJson = await loadModel(path.join(dir, 'model.json'));
    const viaUrl = await loadModel(pathToFileURL(path.join(dir, 'model.json')).href);
    for (const l of [viaJson, viaUrl]) {
      const a = m.predict(xi) as tf.Tensor;
      const b = l.predict(xi) as tf.Tensor;
      expect(maxAbsDiff(a, b)).toBe(0);
      tf.dispose([a, b]);
      l.dispose();
    }
    xi.dispose();
    m.dispose();
  });

  it('float16 and uint8 quantisation shrink the weights and stay close', async () => {
    const m = buildStudent({ arch: 'espcn', scale: 2, seed: 4 });
    const xi = x();
    const f16 = await roundTrip(m, path.join(tmp, 'q16'), xi, 'float16');
    const u8 = await roundTrip(m, path.join(tmp, 'q8'), xi, 'uint8');
    expect((await fs.stat(path.join(tmp, 'q16', 'weights.bin'))).size).toBe(m.countParams() * 2);
    expect((await fs.stat(path.join(tmp, 'q8', 'weights.bin'))).size).toBe(m.countParams());
    expect(f16.d).toBeGreaterThan(0);
    expect(f16.d).toBeLessThan(2e-3);
    expect(u8.d).toBeGreaterThan(f16.d);
    expect(u8.d).toBeLessThan(5e-2);
    // zero biases stay exactly zero after uint8 quantisation (zero-point nudging)
    const bias = u8.loaded.getLayer('feat1').getWeights()[1];
    expect(Array.from(bias.dataSync()).every((v) => v === 0)).toBe(true);
    f16.loaded.dispose();
    u8.loaded.dispose();
    xi.dispose();
    m.dispose();
  });

  it('float16 conversion rounds to nearest even and handles special values', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
    expect(float32ToFloat16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
    expect(float32ToFloat16Bits(5.960464477539063e-8)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('loads in-memory artifacts and over http', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, seed: 3 });
    const xi = x();
    const mem = await loadModel(await modelToArtifacts(m));
    const dir = path.join(tmp, 'http');
    await saveModel(m, dir);
    const server = http.createServer(async (req, res) => {
      try {
        const body = await fs.readFile(path.join(dir, path.basename(req.url ?? '')));
        res.writeHead(200).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const remote = await loadModel(`http://127.0.0.1:${port}/model.json`);
      for (const l of [mem, remote]) {
        const a = m.predict(xi) as tf.Tensor;
        const b = l.predict(xi) as tf.Tensor;
        expect(maxAbsDiff(a, b)).toBe(0);
        tf.dispose([a, b]);
        l.dispose();
      }
      await expect(loadModel(`http://127.0.0.1:${port}/missing.json`)).rejects.toBeInstanceOf(ModelError);
    } finally {
      server.close();
    }
    xi.dispose();
    m.dispose();
  });

  it('save/load cycles leak no tensors beyond the loaded model', async () => {
    const m = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, seed: 3 });
    const dir = path.join(tmp, 'leak');
    await saveModel(m, dir);
    (await loadModel(dir)).dispose();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await saveModel(m, dir, { quantize: 'uint8' });
      (await loadModel(dir)).dispose();
    }
    expect(tf.memory().numTensors).toBe(n);
    m.dispose();
  });

  it('typed errors for missing, corrupt and truncated files, bad options and abort', async () => {
    await expect(loadModel(path.join(tmp, 'does-not-exist'))).rejects.toThrow(ModelError);
    const bad = path.join(tmp, 'bad');
    await fs.mkdir(bad, { recursive: true });
    await fs.writeFile(path.join(bad, 'model.json'), '{not json');
    await expect(loadModel(bad)).rejects.toThrow(/not valid JSON/);

    const m = buildStudent({ arch: 'espcn', scale: 2, widths: [4, 4] });
    const trunc = path.join(tmp, 'trunc');
    await saveModel(m, trunc);
    const w = await fs.readFile(path.join(trunc, 'weights.bin'));
    await fs.writeFile(path.join(trunc, 'weights.bin'), w.subarray(0, w.length - 8));
    await expect(loadModel(trunc)).rejects.toThrow(/truncated/);
    await fs.rm(path.join(trunc, 'weights.bin'));
    await expect(loadModel(trunc)).rejects.toThrow(/cannot read weights file/);

    await expect(saveModel(m, path.join(tmp, 'q'), { quantize: 'int4' as never })).rejects.toThrow(ConfigError);
    const ac = new AbortController();
    ac.abort();
    await expect(saveModel(m, path.join(tmp, 'ab'), { signal: ac.signal })).rejects.toThrow(AbortError);
    await expect(loadModel(trunc, { signal: ac.signal })).rejects.toThrow(AbortError);
    m.dispose();
  });
});
