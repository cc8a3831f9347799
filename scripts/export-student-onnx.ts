/**
 * Writes `model.onnx` beside the `model.json` of saved models (default: the shipped students models/x1, x2, x2-fast, x4, x4-plus), the
 * graph `Student.load` runs on ONNX Runtime without TF.js (src/infer/student-onnx.ts). Run it after changing a
 * shipped model or the exporter; test/student-onnx.test.ts fails while a shipped file differs from a fresh export.
 *
 * With `--int8 <percentile|mse|minmax>` it writes `model.int8.onnx` instead (`writeStudentOnnxInt8`, what
 * `Student.load(dir, { precision: 'int8' })` runs), calibrated on the HR images of T91 and BSDS200 under `--data`
 * (default `$SHARPEN_KD_DATA`, else ../shared/data); needs onnxruntime-node. The shipped int8 graphs (`lab/ship.sh`):
 * `x2` with percentile ranges and its first layer in float, `x4-plus` with MSE ranges (the methods that lost least in
 * `scripts/bench-int8.ts`).
 *
 * `--float-first-layer` keeps the first layer in float (`StudentOnnxInt8Options.floatFirstLayer`).
 *
 * Usage: npx tsx scripts/export-student-onnx.ts [--int8 <method> [--float-first-layer]] [--data <dir>] [model-dir...]
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { writeStudentOnnx, writeStudentOnnxInt8 } from '../src/infer/student-onnx-build';
import type { RangeMethod } from '../src/models/onnx/quantize-int8';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { int8: { type: 'string' }, 'float-first-layer': { type: 'boolean', default: false }, data: { type: 'string', default: process.env.SHARPEN_KD_DATA ?? path.resolve('../shared/data') } },
});
await tf.setBackend('cpu');
if (args.int8 && positionals.length === 0) throw new Error('--int8: name the model folders (lab/ship.sh writes the shipped ones with their settings)');
const dirs = positionals.length > 0 ? positionals : ['models/x1', 'models/x2', 'models/x2-fast', 'models/x4', 'models/x4-plus'];
for (const dir of dirs) {
  if (args.int8) {
    const calibration = ['T91', 'BSDS200'].map((s) => path.join(args.data!, s, 'HR'));
    console.log(await writeStudentOnnxInt8(dir, { calibration, method: args.int8 as RangeMethod, floatFirstLayer: args['float-first-layer'] }));
  } else {
    console.log(await writeStudentOnnx(dir));
  }
}
