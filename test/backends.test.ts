import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, useBackend } from '../src/index';

describe('useBackend', () => {
  it('selects cpu and wasm (wasm binaries found in node_modules, offline)', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(await useBackend('wasm')).toBe('wasm');
    const y = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    expect(Array.from(await y.data())).toEqual([4, 6]);
    y.dispose();
  });

  it('throws a typed error with an install hint for a missing optional backend', async () => {
    const err = await useBackend('tensorflow').catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.code).toBe('E_BACKEND');
    expect(err.message).toMatch(/npm install @tensorflow\/tfjs-node/);
  });

  it('rejects unknown names', async () => {
    await expect(useBackend('metal' as never)).rejects.toThrow(/Unknown backend "metal"/);
  });
});
