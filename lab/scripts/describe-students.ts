/**
 * Parameters and MACs per 1280×720 output frame of compact-student variants (plain and with the pixel-unshuffle
 * front end), from `describeModel`. The MAC ratios in docs/guide.md, the wider-×2 sizing and the cost of a ~40K-parameter
 * ×4 student (20×8) in the README come from this script.
 *
 * Usage: npx tsx lab/scripts/describe-students.ts
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { buildStudent } from '../../src/models/student';
import { describeModel } from '../../src/models/describe';

await tf.setBackend('cpu');
const variants: Array<[1 | 2 | 4, number, number, 1 | 2 | 4]> = [
  [1, 16, 6, 1], [1, 16, 6, 2], [1, 16, 6, 4],
  [2, 16, 6, 1], [2, 16, 6, 2], [2, 32, 8, 2], [2, 32, 8, 1],
  [4, 16, 6, 1], [4, 18, 6, 1], [4, 20, 8, 1],
];
const plainMacs = new Map<number, number>();
for (const [scale, width, depth, unshuffle] of variants) {
  const m = buildStudent({ arch: 'compact', scale, width, depth, unshuffle });
  const d = describeModel(m, { inputSize: [720 / scale, 1280 / scale] });
  m.dispose();
  if (width === 16 && depth === 6 && unshuffle === 1) plainMacs.set(scale, d.macs);
  const ratio = d.macs / (plainMacs.get(scale) ?? d.macs);
  console.log(`x${scale} ${width}x${depth} unshuffle ${unshuffle}: ${d.params} params, ${(d.macs / 1e9).toFixed(2)} GMACs per 720p frame, ${ratio.toFixed(2)}x the plain 16x6`);
}
