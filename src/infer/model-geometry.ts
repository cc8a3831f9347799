/**
 * Sizes derived from a model: its scale when it carries no metadata, the working memory one input pixel costs,
 * and from those the default tile size and the tile shape for a given image width.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tfCore } from '../backends/tf-lazy';
import { ModelError } from '../errors';
import { minTileSize } from './tile-plan';

/** Default width of the feathered blend between tiles (input pixels). */
export const DEFAULT_FEATHER = 8;
/** Working-memory budget of one tile (activations + output), used to pick the default tile size. */
export const TILE_BUDGET_BYTES = 96 * 2 ** 20;
/** Budget of the float strip that blends one row of tiles (tile height × output width × 3 floats). */
export const STRIP_BUDGET_BYTES = 64 * 2 ** 20;
/** Widest tile used when tile rows are made short on very wide images. */
export const MAX_TILE_WIDTH = 2048;

/** Scale of a model without metadata: run it on a tiny input and compare sizes. */
export async function probeScale(model: tfl.LayersModel): Promise<number> {
  const tf = await tfCore();
  const shape = tf.tidy(() => (model.predict(tf.zeros([1, 8, 8, 3])) as tf.Tensor).shape);
  const s = (shape[1] ?? 0) / 8;
  if (shape.length !== 4 || !Number.isInteger(s) || s < 1 || shape[2] !== 8 * s) {
    throw new ModelError(`model ${model.name} maps [1, 8, 8, 3] to [${shape.join(', ')}]: expected an image model [N, H, W, 3] -> [N, H*s, W*s, 3]`);
  }
  return s;
}

/** Rough bytes of working memory per input pixel: a few live activations of the widest layer, plus the output. */
export function bytesPerInputPixel(model: tfl.LayersModel | undefined, scale: number): number {
  if (!model) return 3 * 4 * 4 + scale * scale * 3 * 4 * 4;
  const maxChannels = Math.max(3, ...model.layers.map((l) => Number((l.outputShape as number[])[3]) || 0));
  return maxChannels * 4 * 3 + scale * scale * 3 * 4 * 3;
}

/** Default (square) tile size in input pixels for a memory cost per pixel. */
export function defaultTileSize(bytesPerPixel: number, margin: number, align: number): number {
  const min = minTileSize({ margin, feather: DEFAULT_FEATHER, align }) + 32;
  const auto = Math.floor(Math.sqrt(TILE_BUDGET_BYTES / bytesPerPixel) / 16) * 16;
  return Math.max(min, Math.min(1024, auto));
}

/**
 * Tile width and height for an image `width` pixels wide: the square `tile`, except that on very wide images
 * the rows get shorter (so that the blending strip, rows × output width, stays within {@link STRIP_BUDGET_BYTES})
 * and the tiles wider, keeping their area.
 */
export function tileShape(tile: number, width: number, scale: number, o: { margin: number; feather: number; align: number }): { tile: number; tileHeight: number } {
  const rowBytes = width * scale * scale * 3 * 4;
  const minH = minTileSize(o) + 8;
  const tileHeight = Math.min(tile, Math.max(minH, Math.floor(STRIP_BUDGET_BYTES / rowBytes)));
  const tileWidth = tileHeight < tile ? Math.min(MAX_TILE_WIDTH, Math.max(tile, Math.floor((tile * tile) / tileHeight))) : tile;
  return { tile: tileWidth, tileHeight };
}
