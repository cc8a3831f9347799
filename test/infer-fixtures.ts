// Small models and images for the inference tests, built with tfjs-layers directly.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AddUpsampledInput } from '../src/models/layers/add-upsampled-input';
import { PixelShuffle } from '../src/models/layers/pixel-shuffle';

/** ESPCN-like net (5x5 tanh, 3x3 tanh, 3x3 -> pixel shuffle, + upsampled input), seeded, tiny widths. */
export function tinyEspcn(scale: number, opts: { width?: number; seed?: number; interpolation?: 'nearest' | 'bilinear' } = {}): tfl.LayersModel {
  const w = opts.width ?? 8;
  const seed = opts.seed ?? 1;
  const input = tfl.input({ shape: [null, null, 3] });
  let x = tfl.layers
    .conv2d({ filters: w, kernelSize: 5, padding: 'same', activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }), biasInitializer: tfl.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 10 }) })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: w, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: 3 * scale * scale, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) })
    .apply(x) as tfl.SymbolicTensor;
  if (scale > 1) x = new PixelShuffle({ scale }).apply(x) as tfl.SymbolicTensor;
  x = new AddUpsampledInput({ scale, interpolation: opts.interpolation ?? 'nearest' }).apply([x, input]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

/** A smooth random-ish RGB image in [0, 1] with some edges: `[h, w, 3]` floats. */
export function testImage(h: number, w: number, seed = 0): Float32Array {
  const out = new Float32Array(h * w * 3);
  let s = seed * 9301 + 49297;
  const rnd = () => ((s = (s * 9301 + 49297) % 233280) / 233280);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const v = 0.5 + 0.3 * Math.sin((x + 2 * c) / 3.1) * Math.cos(y / 4.7) + (((x >> 3) + (y >> 3)) % 2 ? 0.1 : -0.1) + 0.05 * (rnd() - 0.5);
        out[(y * w + x) * 3 + c] = Math.min(1, Math.max(0, v));
      }
  return out;
}

/** Whole-image reference output of a model, as a Float32Array. */
export async function predictWhole(model: tfl.LayersModel, img: Float32Array, h: number, w: number): Promise<Float32Array> {
  const y = tf.tidy(() => model.predict(tf.tensor4d(img, [1, h, w, 3])) as tf.Tensor);
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

/** Largest absolute difference of two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
