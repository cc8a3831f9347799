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
import type { RangeMethod } from '../models/onnx/quantize-int8';
import { modelSourceHash, STUDENT_ONNX_FILE, STUDENT_ONNX_INT8_FILE, STUDENT_ONNX_KEY, type StudentOnnxInfo } from './student-onnx';

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

/**
 * Options of {@link writeStudentOnnxInt8}.
 *
 * @example
 * ```ts
 * const opts: StudentOnnxInt8Options = { calibration: ['data/T91/HR'], method: 'mse', floatFirstLayer: true };
 * ```
 */
export interface StudentOnnxInt8Options {
  /**
   * Folders of HR images to calibrate on: training images, never the evaluation sets. Each image gives one LR crop
   * made with the evaluation protocol's degradation (`calibrate-int8.ts`).
   */
  calibration: string[];
  /** How a tensor's calibrated values become its range: `percentile` (default), `mse` or `minmax` (see `pickRange`). */
  method?: RangeMethod;
  /** Images to use at most, in listing order (default 291). */
  limit?: number;
  /** ONNX Runtime threads while calibrating (default: every core). */
  threads?: number;
  /**
   * Keep the first layer (the conv that reads the image and its PReLU) in float (default false): its output has the
   * body's widest range, so this recovers a good part of what int8 loses (shipped `x2`: −0.18 dB on Set5 instead of
   * −0.25), at little cost in speed (a 3-channel conv is not faster in int8).
   */
  floatFirstLayer?: boolean;
}

/**
 * Writes `<dir>/model.int8.onnx` for the saved model in `dir` and returns its path: the `model.onnx` graph with int8
 * weights (per output channel) and uint8 activations (per tensor, calibrated), in the QDQ form ONNX Runtime's CPU
 * provider runs with integer kernels (`models/onnx/quantize-int8.ts`). `Student.load(dir, { precision: 'int8' })` runs
 * it. Node only, with onnxruntime-node installed (calibration runs the float graph); a TF.js backend must be active.
 *
 * It is faster where the convolutions are wide enough (×2 and the 32-wide ×4 here) and always costs some quality:
 * measure it with `sharpen-kd eval --int8` before using it.
 *
 * @throws ModelError for a model that does not export to ONNX; ConfigError without calibration images; IoError when
 *   the file cannot be written.
 * @example
 * ```ts
 * await writeStudentOnnxInt8('runs/x2/model-last', { calibration: ['data/T91/HR', 'data/BSDS200/HR'] });
 * ```
 */
export async function writeStudentOnnxInt8(dir: string, opts: StudentOnnxInt8Options): Promise<string> {
  const [path, { writeFileAtomic }, { calibrationHistograms, calibrationInputs, rangesFrom }, { quantizeGraphInt8, RANGE_METHODS }, { ConfigError }] = await Promise.all([
    import('node:path'),
    import('../io/atomic-write'),
    import('../models/onnx/calibrate-int8'),
    import('../models/onnx/quantize-int8'),
    import('../errors'),
  ]);
  const method = opts.method ?? 'percentile';
  if (!RANGE_METHODS.includes(method)) throw new ConfigError(`unknown int8 range method "${String(method)}": use ${RANGE_METHODS.join(', ')}`);
  const model = await loadModel(dir);
  try {
    const { graph, encode } = await studentOnnxGraph(model, await modelSourceHash(dir));
    const info = JSON.parse(encode.metadata[STUDENT_ONNX_KEY]) as StudentOnnxInfo;
    const inputs = await calibrationInputs(opts.calibration, info.scale, { limit: opts.limit ?? 291 });
    if (inputs.length === 0) throw new ConfigError(`no calibration images in ${opts.calibration.join(', ')}`);
    const plan = { floatFirstLayer: opts.floatFirstLayer === true };
    const ranges = rangesFrom(await calibrationHistograms(graph, inputs, { ...plan, threads: opts.threads }), method);
    const folders = opts.calibration.map((d) => path.basename(path.resolve(d)) === 'HR' ? `${path.basename(path.dirname(path.resolve(d)))}/HR` : path.basename(path.resolve(d)));
    const int8: StudentOnnxInfo = { ...info, int8: { method, images: inputs.length, folders, ...(plan.floatFirstLayer ? { floatFirstLayer: true } : {}) } };
    const file = path.join(dir, STUDENT_ONNX_INT8_FILE);
    await writeFileAtomic(file, encodeOnnxModel(quantizeGraphInt8(graph, ranges, plan), { ...encode, metadata: { ...encode.metadata, [STUDENT_ONNX_KEY]: JSON.stringify(int8) } }));
    return file;
  } finally {
    model.dispose();
  }
}
