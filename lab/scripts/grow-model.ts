/**
 * Grows a saved compact student with `growStudent` (Net2Net) and saves the result, e.g. to score the grown net before
 * any training (`sharpen-kd eval -m <dst>`) or to time a deeper / wider variant (`sharpen-kd bench -m <dst>`: the
 * frame rate does not depend on the weights).
 *
 * Usage: npx tsx lab/scripts/grow-model.ts <src folder> <dst folder> <width> <depth> [noise=0.01] [seed=1] [detail=source's]
 * (detail `luma` converts an RGB-detail source to luma detail with the same Y.)
 */
import '@tensorflow/tfjs-backend-cpu';
import { loadModel, saveModel } from '../../src/io/model-io';
import { growStudent } from '../../src/models/grow';

const [src, dst, width, depth, noise = '0.01', seed = '1', detail] = process.argv.slice(2);
if (!src || !dst || !width || !depth || (detail !== undefined && detail !== 'rgb' && detail !== 'luma')) {
  console.error('usage: npx tsx lab/scripts/grow-model.ts <src folder> <dst folder> <width> <depth> [noise=0.01] [seed=1] [detail rgb|luma]');
  process.exit(2);
}
const source = await loadModel(src);
const grown = await growStudent(source, { width: Number(width), depth: Number(depth), noise: Number(noise), seed: Number(seed), detail });
await saveModel(grown, dst);
console.log(`${src} -> ${dst}: compact ${width}×${depth}${detail ? ` (${detail} detail)` : ''}, ${grown.countParams()} params`);
source.dispose();
grown.dispose();
