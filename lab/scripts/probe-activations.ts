/**
 * Dead-ReLU probe: the share of exact zeros and the largest magnitude at every ReLU / block output of a saved model,
 * on one batch of 8 random 32x32 LR patches from Set5 (MATLAB-bicubic LR at the given scale). A layer at 100% zeros
 * passes no gradient: everything behind it stops learning.
 *
 * Usage: npx tsx lab/scripts/probe-activations.ts <model dir> <scale> [--all]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../../src/backends/use-backend';
import { loadModel } from '../../src/io/model-io';
import { openDataset } from '../../src/data/datasets';
await useBackend('wasm');
const [dir, scaleArg] = process.argv.slice(2);
const scale = Number(scaleArg);
if (!dir || ![1, 2, 4].includes(scale)) {
  console.error('usage: npx tsx lab/scripts/probe-activations.ts <model dir> <scale 1|2|4> [--all]');
  process.exit(2);
}
const all = process.argv.includes('--all');
const m = await loadModel(dir);
const names = m.layers.filter((l) => /relu$|_out$|^enc|^dec\d$/.test(l.name)).map((l) => l.name);
const probe = tfl.model({ inputs: m.inputs, outputs: names.map((n) => m.getLayer(n).output as tfl.SymbolicTensor) });
const data = await openDataset([`${process.env.SHARPEN_KD_DATA ?? '../shared/data'}/Set5/HR`], { scale: scale as 1 | 2 | 4, patchSize: 32, batchSize: 8, seed: 3 });
const b = await data.nextArrays();
const x = tf.tensor4d(b.lr, [b.count, 32, 32, 3]);
const outs = probe.predict(x) as tf.Tensor[];
const rows: string[] = [];
outs.forEach((o, i) => {
  const d = o.dataSync();
  let z = 0; let mx = 0;
  for (const v of d) { if (v === 0) z++; mx = Math.max(mx, Math.abs(v)); }
  rows.push(`${names[i].padEnd(28)} zero ${(100 * z / d.length).toFixed(1)}%  max ${mx.toExponential(2)}`);
});
const y = m.predict(x) as tf.Tensor;
console.log((all ? rows : rows.filter((_, i) => i < 6 || i > names.length - 8)).join('\n'));
console.log(`output range ${tf.min(y).dataSync()[0]} .. ${tf.max(y).dataSync()[0]}`);
data.dispose();
