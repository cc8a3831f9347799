// useBackend('wasm', { threads: 2 }) in Node: the threaded SIMD binary with 2 XNNPACK threads (tfjs
// disables it in Node; src/backends/wasm-threads.ts works around that). Results equal the cpu backend's.
// Own file: the thread count is fixed when the backend first initialises in a process.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { Rng } from '../src/core/rng';

describe('wasm threads in Node', () => {
  it('initialises 2 XNNPACK threads and computes conv gradients like cpu', async () => {
    expect(await useBackend('wasm', { threads: 2 })).toBe('wasm');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    expect(wasm.getThreadsCount()).toBe(2);
    // Patches are undone after initialisation.
    expect(URL.createObjectURL(new Blob(['x'], { type: 'application/javascript' }))).toMatch(/^blob:/);

    const rng = new Rng(5);
    const xd = Float32Array.from({ length: 4 * 24 * 24 * 8 }, () => rng.uniform(-1, 1));
    const wd = Float32Array.from({ length: 3 * 3 * 8 * 16 }, () => rng.uniform(-1, 1));
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xd, [4, 24, 24, 8]);
      const w = tf.tensor4d(wd, [3, 3, 8, 16]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')));
      const [gx, gw] = tf.grads(f)([x, w]);
      const out = [(await gx.data()) as Float32Array, (await gw.data()) as Float32Array];
      tf.dispose([x, w, gx, gw]);
      return out;
    };
    const ref = await grads('cpu');
    const got = await grads('wasm');
    for (let k = 0; k < 2; k++) {
      const maxRef = ref[k].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const maxDiff = ref[k].reduce((m, v, i) => Math.max(m, Math.abs(v - got[k][i])), 0);
      expect(maxDiff / maxRef).toBeLessThan(1e-5);
    }
  });

  it('lets the process exit once its work is done (the pthread workers are unref\'d)', async () => {
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const script = path.join(__dirname, 'fixtures', 'wasm-threads-exit.mts');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    expect(out).toContain('sum=565504');
    expect(code).toBe(0); // null when it had to be killed: the process hung after its work
  }, 90_000);
});
