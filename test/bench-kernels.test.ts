// The kernel and training-step benchmarks (public API behind `npm run bench:kernels`) run on tiny shapes and leak nothing.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { benchmarkConvKernels } from '../src/bench/kernels';
import { benchmarkTrainingStep, espcnTrainingStep } from '../src/bench/training-step';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('kernel benchmarks', () => {
  it('times each (target, kernel) pair on a tiny shape and reports GFLOP/s', async () => {
    const before = tf.memory().numTensors;
    const rows = await benchmarkConvKernels({
      targets: ['wasm', 'cpu'],
      shapes: [{ name: 'tiny', x: [1, 8, 8, 4], filter: [3, 3, 4, 4] }],
      kernels: ['Conv2D', 'Conv2DBackpropFilter'],
      reps: 1,
    });
    expect(rows.map((r) => `${r.target}/${r.kernel}`).sort()).toEqual(['cpu/Conv2D', 'cpu/Conv2DBackpropFilter', 'wasm/Conv2D', 'wasm/Conv2DBackpropFilter']);
    for (const r of rows) expect(r.gflops).toBeGreaterThan(0);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('times training steps of the ESPCN-like net, whose loss goes down', async () => {
    const before = tf.memory().numTensors;
    const net = espcnTrainingStep({ batch: 2, patch: 8, activation: 'prelu' });
    const first = await net.step();
    for (let i = 0; i < 5; i++) await net.step();
    expect(await net.step()).toBeLessThan(first);
    net.dispose();
    const rows = await benchmarkTrainingStep({ targets: ['wasm'], batch: 2, patch: 8, steps: 1, activation: 'relu' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ target: 'wasm', activation: 'relu', batch: 2 });
    expect(rows[0].ms).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
