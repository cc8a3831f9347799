/**
 * TF.js core imported on first use. The modules on the ONNX Runtime inference path (Student, its engine choice,
 * input decoding, the tile runners) import TF.js only through here, so that `sharpen-kd sharpen` with a shipped
 * `.onnx` model never loads it (about a third of the CLI's start-up; see `scripts/bench-cli-startup.ts`).
 */
import type * as tf from '@tensorflow/tfjs-core';

/** `@tensorflow/tfjs-core`, imported on the first call (the same module object every time). */
export function tfCore(): Promise<typeof tf> {
  return import('@tensorflow/tfjs-core');
}

/**
 * True for a TF.js tensor, without importing TF.js (a caller holding a tensor has loaded it already). Duck-typed, so
 * it also accepts tensors of a second copy of tfjs-core, which `instanceof` would not.
 */
export function isTfTensor(x: unknown): x is tf.Tensor {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<tf.Tensor>;
  return typeof t.dataSync === 'function' && typeof t.dtype === 'string' && Array.isArray(t.shape) && typeof t.rank === 'number';
}
