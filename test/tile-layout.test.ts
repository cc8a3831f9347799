// Planar (NCHW) tiles: readTile / writeRows / runTiled / strength give the same pixels as interleaved ones, and an
// ONNX Runtime runner on an NCHW graph matches the NHWC one.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { interleave, readTile, writeRows } from '../src/infer/pixels';
import { tfjsRunner } from '../src/infer/runners';
import { strengthRunner } from '../src/infer/strength';
import { runTiled, type TileRunner } from '../src/infer/tile-engine';
import type { ImageSamples, RawImage } from '../src/io/raw-image';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { buildStudent } from '../src/models/student';
import { testImage, tinyEspcn } from './infer-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The same runner taking and returning planar colour tiles (converted in JS around the HWC one). */
function planar(r: TileRunner): TileRunner {
  return {
    scale: r.scale,
    channels: r.channels,
    layout: 'nchw',
    async run(tile, h, w, c) {
      if (c !== 3) return r.run(tile, h, w, c);
      return interleave(await r.run(interleave(tile, h * w), h, w, c), h * w * r.scale * r.scale, true);
    },
    dispose: () => r.dispose(),
  };
}

function bytes(h: number, w: number, c: 1 | 2 | 3 | 4, seed: number): RawImage<Uint8Array> {
  const data = new Uint8Array(h * w * c).map((_, i) => ((i + seed) * 2654435761) >>> 24);
  return { data, width: w, height: h, channels: c };
}

describe('planar tiles', () => {
  it('interleave and back is the identity; the example holds', () => {
    expect([...interleave(Float32Array.of(1, 2, 10, 20, 100, 200), 2)]).toEqual([1, 10, 100, 2, 20, 200]);
    const x = Float32Array.from({ length: 3 * 35 }, (_, i) => i * 0.5);
    expect([...interleave(interleave(x, 35, true), 35)]).toEqual([...x]);
  });

  it('readTile in NCHW is the planar HWC tile, for RGB, gray and gray+alpha images', () => {
    for (const c of [1, 2, 3, 4] as const) {
      const img = bytes(9, 11, c, c);
      const hwc = readTile(img, 'color', 2, 1, 7, 6);
      expect([...readTile(img, 'color', 2, 1, 7, 6, 'nchw')], `channels ${c}`).toEqual([...interleave(hwc, 42, true)]);
    }
  });

  it('writeRows from NCHW rows writes what it writes from HWC ones, for 8-bit, 16-bit, float, gray and alpha images', () => {
    const rowsHwc = Float32Array.from({ length: 5 * 8 * 3 }, (_, i) => ((i * 37) % 300) / 255 - 0.1);
    for (const [c, make] of [
      [3, (n: number) => new Uint8Array(n)],
      [4, (n: number) => new Uint8Array(n)],
      [1, (n: number) => new Uint8Array(n)],
      [3, (n: number) => new Uint16Array(n)],
      [3, (n: number) => new Float32Array(n)],
    ] as const) {
      const a: RawImage<ImageSamples> = { data: make(8 * 7 * c), width: 8, height: 7, channels: c };
      const b: RawImage<ImageSamples> = { data: make(8 * 7 * c), width: 8, height: 7, channels: c };
      writeRows(a, 'color', rowsHwc, 1, 5);
      writeRows(b, 'color', interleave(rowsHwc, 40, true), 1, 5, 'nchw');
      expect([...b.data], `${a.data.constructor.name} × ${c}`).toEqual([...a.data]);
    }
  });

  for (const [tile, label] of [[64, 'one tile'], [14, 'many tiles']] as const) {
    it(`runTiled with a planar runner gives the same image as with the HWC one (${label}), and strength too`, async () => {
      const model = tinyEspcn(2);
      const [h, w] = [23, 31];
      const src: RawImage<Float32Array> = { data: testImage(h, w, 2), width: w, height: h, channels: 3 };
      const out = () => ({ data: new Uint8Array(h * w * 12), width: w * 2, height: h * 2, channels: 3 }) as RawImage<Uint8Array>;
      const p = { tile, margin: 4, feather: 2, align: 1 };
      const [a, b, c, d] = [out(), out(), out(), out()];
      await runTiled(tfjsRunner(model, 2), src, a, 'color', p);
      await runTiled(planar(tfjsRunner(model, 2)), src, b, 'color', p);
      await runTiled(strengthRunner(tfjsRunner(model, 2), 0.5), src, c, 'color', p);
      await runTiled(strengthRunner(planar(tfjsRunner(model, 2)), 0.5), src, d, 'color', p);
      expect([...b.data]).toEqual([...a.data]);
      expect([...d.data]).toEqual([...c.data]);
      expect(a.data.some((v, i) => v !== c.data[i])).toBe(true);
      model.dispose();
    });
  }
});

describe('ONNX Runtime runner layout', () => {
  it('an NCHW graph gives the NHWC graph\'s output, planar; bytes report their layout; runTensor speaks NHWC either way', async () => {
    const model = buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, detail: 'luma', residualInterpolation: 'bilinear', seed: 3 });
    const nhwc = await createOnnxRunner(model, { threads: 1 });
    const nchw = await createOnnxRunner(model, { threads: 1, layout: 'nchw' });
    expect([nhwc.layout, nchw.layout]).toEqual(['nhwc', 'nchw']);
    const [h, w] = [7, 10];
    const x = testImage(h, w, 2);
    const a = await nhwc.run(x, [1, h, w, 3]);
    const b = await nchw.run(interleave(x, h * w, true), [1, 3, h, w]);
    expect(b.shape).toEqual([1, 3, 2 * h, 2 * w]);
    const bh = interleave(b.data, 4 * h * w);
    expect(Math.max(...a.data.map((v, i) => Math.abs(v - bh[i])))).toBeLessThan(1e-5);
    const t = tf.tensor4d(x, [1, h, w, 3]);
    const [ta, tb] = [await nhwc.runTensor(t), await nchw.runTensor(t)];
    expect(tb.shape).toEqual([1, 2 * h, 2 * w, 3]);
    expect(tf.max(tf.abs(tf.sub(ta, tb))).dataSync()[0]).toBeLessThan(1e-5);
    const { modelToOnnx } = await import('../src/models/onnx/export');
    const fromBytes = await createOnnxRunner(modelToOnnx(model, { layout: 'nchw' }), { threads: 1 });
    expect(fromBytes.layout).toBe('nchw');
    const wrong = await nchw.run(interleave(x, h * w, true), [1, h, w, 3]).then(() => undefined, (e: Error) => e);
    expect(wrong?.message).toMatch(/shape|dimension|Got/i);
    for (const r of [nhwc, nchw, fromBytes]) await r.dispose();
    tf.dispose([t, ta, tb]);
    model.dispose();
  });
});
