/**
 * ONNX: export a TF.js model (student, teacher, EMT) to an ONNX graph, and run one with ONNX Runtime (Node or web) on
 * NHWC images. A `Student` uses ONNX Runtime on its own when it is installed; these are for running a model yourself.
 *
 * @example
 * ```ts
 * import { createOnnxRunner, exportOnnx } from 'sharpen-kd/onnx';
 * await exportOnnx(student, 'runs/x4/model.onnx');
 * const runner = await createOnnxRunner(student);
 * ```
 *
 * @module sharpen-kd/onnx
 */
export { exportOnnx, modelToOnnx } from '../models/onnx/export';
export type { OnnxExportOptions } from '../models/onnx/export';
export { createOnnxRunner } from '../backends/onnx-runner';
export { provideOnnxRuntime } from '../platform/provided';
export type { OnnxRunner, OnnxRunnerOptions, OnnxRunResult } from '../backends/onnx-runner';
export { writeStudentOnnx, writeStudentOnnxInt8 } from '../infer/student-onnx-build';
export type { StudentOnnxInt8Options } from '../infer/student-onnx-build';
export type { RangeMethod } from '../models/onnx/quantize-int8';
export { INFERENCE_BACKENDS } from '../infer/engine';
export type { InferenceBackend } from '../infer/engine';
