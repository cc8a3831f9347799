// Training a small SR conv net on wasm gives the same loss curve as on cpu (same seed, same initial
// weights): every gradient kernel on the path (Conv2DBackpropFilter/Input incl. stride 2, DepthToSpace,
// activations, Adam) agrees, and the loop does not leak tensors.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { Rng } from '../src/core/rng';

interface Init {
  [name: string]: { shape: number[]; data: Float32Array };
}

function initialWeights(seed: number): Init {
  const rng = new Rng(seed);
  const shapes: Record<string, number[]> = {
    w1: [5, 5, 3, 8],
    b1: [8],
    a1: [8],
    w2: [3, 3, 8, 8],
    b2: [8],
    w3: [3, 3, 8, 12],
    b3: [12],
  };
  const init: Init = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((p, d) => p * d, 1);
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : 1;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = name.startsWith('w') ? rng.normal() * Math.sqrt(2 / fanIn) : name === 'a1' ? 0.25 : 0;
    init[name] = { shape, data };
  }
  return init;
}

function batch(seed: number): { lr: Float32Array; hr: Float32Array } {
  const rng = new Rng(seed);
  const lr = new Float32Array(2 * 12 * 12 * 3).map(() => rng.next());
  const hr = new Float32Array(2 * 12 * 12 * 3).map(() => rng.next());
  return { lr, hr };
}

/** 20 Adam steps of conv5x5 -> PReLU -> conv3x3 stride 2 -> ReLU -> conv3x3 -> depthToSpace(2) -> tanh, L1 loss. */
async function train(backend: string, steps = 20): Promise<{ losses: number[]; drift: number }> {
  await tf.setBackend(backend);
  const init = initialWeights(7);
  const v: Record<string, tf.Variable> = {};
  for (const [name, { shape, data }] of Object.entries(init)) v[name] = tf.variable(tf.tensor(data, shape), true, `${backend}_${name}`);
  const opt = tf.train.adam(1e-2);
  const { lr, hr } = batch(11);
  const x = tf.tensor4d(lr, [2, 12, 12, 3]);
  const y = tf.tensor4d(hr, [2, 12, 12, 3]);
  const net = (input: tf.Tensor4D): tf.Tensor4D => {
    let h = tf.prelu(tf.add(tf.conv2d(input, v.w1 as tf.Tensor4D, 1, 'same'), v.b1), v.a1);
    h = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, v.w2 as tf.Tensor4D, 2, 'same'), v.b2));
    h = tf.add(tf.conv2d(h as tf.Tensor4D, v.w3 as tf.Tensor4D, 1, 'same'), v.b3);
    return tf.tanh(tf.depthToSpace(h as tf.Tensor4D, 2));
  };
  const losses: number[] = [];
  let before = 0;
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => tf.mean(tf.abs(tf.sub(net(x), y))) as tf.Scalar, true)!;
    losses.push((await loss.data())[0]);
    loss.dispose();
    if (i === 1) before = tf.memory().numTensors;
  }
  const drift = tf.memory().numTensors - before;
  opt.dispose();
  tf.dispose([x, y, ...Object.values(v)]);
  return { losses, drift };
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('training on wasm', () => {
  it('follows the cpu loss curve within 1e-4 over 20 Adam steps, without leaking', async () => {
    const cpu = await train('cpu');
    const wasm = await train('wasm');
    expect(wasm.losses).toHaveLength(20);
    // The net learns (the curve is not flat, so agreement is meaningful).
    expect(cpu.losses[19]).toBeLessThan(cpu.losses[0] * 0.9);
    for (let i = 0; i < 20; i++) expect(Math.abs(wasm.losses[i] - cpu.losses[i]), `step ${i}`).toBeLessThan(1e-4);
    expect(wasm.drift).toBe(0);
    expect(cpu.drift).toBe(0);
  });
});
