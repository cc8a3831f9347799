// Student.load of a shipped model on ONNX Runtime runs its model.onnx as is: no TF.js backend is initialised, the
// layers model is neither loaded nor converted. (Its own file: nothing else here may touch TF.js first.)
import { describe, expect, it, vi } from 'vitest';

vi.mock('../src/io/model-io', () => ({
  loadModel: () => {
    throw new Error('the layers model was loaded');
  },
}));
vi.mock('../src/models/onnx/export', () => ({
  modelToOnnx: () => {
    throw new Error('the model was converted');
  },
}));
vi.mock('../src/backends/use-backend', () => ({
  BACKEND_NAMES: ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'],
  useBackend: () => {
    throw new Error('a TF.js backend was initialised');
  },
}));

describe('Student.load on ONNX Runtime with a shipped model.onnx', () => {
  it.each(['onnx', 'auto'] as const)('backend %s: no TF.js backend, no layers model, no conversion; sharpens RGB', async (backend) => {
    const { Student } = await import('../src/infer/student');
    const s = await Student.load('x4', { backend, threads: 1 });
    try {
      expect(s.info).toMatchObject({ name: 'x4', scale: 4, arch: 'compact', backend: 'onnx', params: 21472 });
      const out = await s.sharpen({ data: new Uint8Array(16 * 12 * 3).fill(128), width: 16, height: 12, channels: 3, bits: 8 });
      expect([out.width, out.height, out.channels]).toEqual([64, 48, 3]);
    } finally {
      s.dispose();
    }
    const tf = await import('@tensorflow/tfjs-core');
    expect(tf.getBackend()).toBeFalsy();
    expect(tf.findBackendFactory('wasm')).toBeFalsy();
  });
});
