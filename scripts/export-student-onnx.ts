/**
 * Writes `model.onnx` beside the `model.json` of saved models (default: the shipped students models/x1, x2, x4, x4-plus), the
 * graph `Student.load` runs on ONNX Runtime without TF.js (src/infer/student-onnx.ts). Run it after changing a
 * shipped model or the exporter; test/student-onnx.test.ts fails while a shipped file differs from a fresh export.
 *
 * Usage: npx tsx scripts/export-student-onnx.ts [model-dir...]
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { writeStudentOnnx } from '../src/infer/student-onnx-build';

await tf.setBackend('cpu');
const dirs = process.argv.slice(2);
for (const dir of dirs.length > 0 ? dirs : ['models/x1', 'models/x2', 'models/x4', 'models/x4-plus']) {
  console.log(await writeStudentOnnx(dir));
}
