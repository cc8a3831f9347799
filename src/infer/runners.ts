/**
 * Tile runners: a TF.js LayersModel on the active backend, and MATLAB-style bicubic interpolation
 * (the `bicubic` model, and the alpha channel of every model).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tfCore } from '../backends/tf-lazy';
import { ShapeError } from '../errors';
import type { TileRunner } from './tile-engine';

/**
 * Runs a TF.js model `[1, H, W, 3] -> [1, H·s, W·s, 3]` on one tile; every intermediate tensor is disposed.
 *
 * @example
 * ```ts
 * const runner = tfjsRunner(model, 4);
 * ```
 */
export function tfjsRunner(model: tfl.LayersModel, scale: number): TileRunner {
  return {
    scale,
    channels: [3],
    async run(tile, height, width, channels) {
      const tf = await tfCore();
      const y = tf.tidy((): tf.Tensor => {
        const out = model.predict(tf.tensor4d(tile, [1, height, width, channels]));
        return (Array.isArray(out) ? out[0] : out) as tf.Tensor;
      });
      try {
        const expect = [1, height * scale, width * scale, channels];
        if (y.shape.join() !== expect.join()) {
          throw new ShapeError(`model output has shape [${y.shape.join(', ')}], expected [${expect.join(', ')}]: is its scale ${scale}?`);
        }
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      // The model belongs to the Student, which disposes it.
    },
  };
}

/**
 * MATLAB `imresize(x, s, 'bicubic')` of any number of channels, clipped to [0, 1]; identity at scale 1. Runs on TF.js,
 * which it imports and initialises (`ensureTfBackend`) on the first tile: a Student on ONNX Runtime loads TF.js only
 * if an image has alpha.
 *
 * @example
 * ```ts
 * const alpha = bicubicRunner(4);
 * ```
 */
export function bicubicRunner(scale: number): TileRunner {
  return {
    scale,
    channels: [1, 2, 3, 4],
    async run(tile, height, width, channels) {
      if (scale === 1) return tile.slice();
      const [tf, { upscaleBicubic }, { ensureTfBackend }] = await Promise.all([tfCore(), import('../metrics/resize-tensor'), import('../backends/use-backend')]);
      await ensureTfBackend();
      const y = tf.tidy(() => upscaleBicubic(tf.tensor3d(tile, [height, width, channels]), scale));
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {},
  };
}

/** Receptive-field radius of MATLAB bicubic upscaling, in input pixels (4 taps). */
export const BICUBIC_RADIUS = 2;
