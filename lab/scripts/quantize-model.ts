/**
 * Re-saves a TF.js model folder with quantized weights (float16 halves the size; uint8 quarters it, with a visible
 * loss), e.g. to keep a shipped model under the 200 KB budget. The copy is written atomically by saveModel.
 *
 * Usage: npx tsx lab/scripts/quantize-model.ts <src folder> <dst folder> [float16|uint8]
 */
import '@tensorflow/tfjs-backend-cpu';
import { loadModel, saveModel, type WeightQuantization } from '../../src/io/model-io';

const [src, dst, kind = 'float16'] = process.argv.slice(2);
if (!src || !dst) {
  console.error('usage: npx tsx lab/scripts/quantize-model.ts <src folder> <dst folder> [float16|uint8]');
  process.exit(2);
}
const model = await loadModel(src);
const r = await saveModel(model, dst, { quantize: kind as WeightQuantization });
console.log(`${src} -> ${dst} (${kind}): ${JSON.stringify(r)}`);
model.dispose();
