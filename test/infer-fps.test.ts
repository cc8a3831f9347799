import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFps } from '../src/bench/fps';
import { ConfigError } from '../src/errors';
import { describeModel } from '../src/models/describe';
import { buildStudent } from '../src/models/student';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('benchmarkFps', () => {
  it('reports median/p95 ms, fps, params, GFLOPs (describeModel at the input size) and a sharp reference', async () => {
    const model = buildStudent({ arch: 'espcn', scale: 2, width: 4, seed: 1 });
    const r = await benchmarkFps({ model, width: 64, height: 48, backend: 'cpu', warmup: 1, runs: 5 });
    expect(Object.keys(r).sort()).toEqual(['backend', 'fps', 'gflops', 'height', 'model', 'msMedian', 'msP95', 'params', 'reference', 'width'].sort());
    expect(r.backend).toBe('cpu');
    expect([r.width, r.height]).toEqual([64, 48]);
    expect(r.msMedian).toBeGreaterThan(0);
    expect(r.msP95).toBeGreaterThanOrEqual(r.msMedian);
    expect(r.fps).toBeCloseTo(1000 / r.msMedian, 6);
    const d = describeModel(model, { inputSize: [24, 32] });
    expect(r.params).toBe(d.params);
    expect(r.gflops).toBeCloseTo(d.flops / 1e9, 12);
    expect(r.reference?.name).toBe('sharp resize cubic');
    expect(r.reference!.fps).toBeGreaterThan(0);
    // The model was borrowed, not disposed.
    const y = model.predict(tf.zeros([1, 4, 4, 3])) as tf.Tensor;
    expect(y.shape).toEqual([1, 8, 8, 3]);
    y.dispose();
    model.dispose();
  });

  it('rejects an output size that is not a multiple of the scale', async () => {
    const err = await benchmarkFps({ model: 'bicubic', scale: 4, width: 130, height: 72, backend: 'cpu', runs: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/not a multiple of the scale 4: use e.g. 128x72/);
  });

  it('aborts', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(benchmarkFps({ model: 'bicubic', scale: 2, width: 32, height: 32, backend: 'cpu', signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});
