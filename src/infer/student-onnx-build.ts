/**
 * Writes the `model.onnx` that {@link Student.load} runs on ONNX Runtime without TF.js (see `student-onnx.ts`):
 * the planar (NCHW) export for ONNX Runtime's CPU provider (`target: 'ort-cpu'`, the graph `createOnnxRunner` builds from a
 * LayersModel in Node) with {@link StudentOnnxInfo} in its metadata.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel } from '../io/model-io';
import { describeModel } from '../models/describe';
import { findModelInfo } from '../models/metadata';
import { modelToOnnxGraph, type OnnxExport } from '../models/onnx/export';
import { encodeOnnxModel } from '../models/onnx/onnx-model';
import { bytesPerInputPixel, probeScale } from './model-geometry';
import { receptiveField } from './receptive-field';
import { modelSourceHash, STUDENT_ONNX_FILE, STUDENT_ONNX_KEY, type StudentOnnxInfo } from './student-onnx';

/** Input side used to count FLOPs per input pixel. */
const FLOP_PROBE = 64;

/**
 * The `model.onnx` bytes of `model`, recording `source` (the {@link modelSourceHash} of the folder it was loaded from).
 *
 * @throws ModelError for a layer without an ONNX mapping.
 */
export async function buildStudentOnnx(model: tfl.LayersModel, source: string): Promise<Uint8Array> {
  const { graph, encode } = await studentOnnxGraph(model, source);
  return encodeOnnxModel(graph, encode);
}

/**
 * @internal {@link buildStudentOnnx} before encoding: the graph and its ModelProto fields (metadata included), for
 * rewrites of the graph that keep the file loadable by `Student.load` (e.g. `models/onnx/quantize-int8.ts`).
 */
export async function studentOnnxGraph(model: tfl.LayersModel, source: string): Promise<OnnxExport> {
  const meta = findModelInfo(model);
  const scale = meta?.scale ?? (await probeScale(model));
  const rf = receptiveField(model);
  const d = describeModel(model, { inputSize: [FLOP_PROBE, FLOP_PROBE] });
  const info: StudentOnnxInfo = {
    version: 1,
    source,
    name: model.name,
    scale,
    arch: meta?.arch ?? 'unknown',
    receptiveField: rf.radius,
    align: rf.align,
    bytesPerInputPixel: bytesPerInputPixel(model, scale),
    params: model.countParams(),
    flopsPerInputPixel: d.flops / (FLOP_PROBE * FLOP_PROBE),
  };
  return modelToOnnxGraph(model, { layout: 'nchw', target: 'ort-cpu', metadata: { [STUDENT_ONNX_KEY]: JSON.stringify(info) } });
}

/**
 * Writes `<dir>/model.onnx` for the saved model in `dir` (a TF.js backend must be active) and returns its path. Then
 * `Student.load(dir)` on ONNX Runtime runs that file without TF.js, as long as the model files stay the same (the
 * file records their hash; a stale file is ignored).
 *
 * @throws ModelError for a model that does not export to ONNX; IoError when the file cannot be written.
 * @example
 * ```ts
 * await writeStudentOnnx('models/x4'); // 'models/x4/model.onnx'
 * ```
 */
export async function writeStudentOnnx(dir: string): Promise<string> {
  const [path, { writeFileAtomic }] = await Promise.all([import('node:path'), import('../io/atomic-write')]);
  const model = await loadModel(dir);
  try {
    const file = path.join(dir, STUDENT_ONNX_FILE);
    await writeFileAtomic(file, await buildStudentOnnx(model, await modelSourceHash(dir)));
    return file;
  } finally {
    model.dispose();
  }
}
