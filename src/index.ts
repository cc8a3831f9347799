/**
 * sharpen-kd: sharpen and upscale images (and videos) with tiny students, train and distill them, and measure them.
 * The root entry holds what most programs need; each concept has its own subpath entry with the rest:
 * `sharpen-kd/models`, `sharpen-kd/train`, `sharpen-kd/data`, `sharpen-kd/metrics`, `sharpen-kd/onnx`, `sharpen-kd/wasm`.
 *
 * @example
 * ```ts
 * import { Student } from 'sharpen-kd';
 * using student = await Student.load('x4');
 * await fs.writeFile('big.png', await student.sharpen('small.png'));
 * ```
 *
 * @module sharpen-kd
 */
// errors
export * from './errors';
export type { Progress, TaskOptions } from './core/task';
// sharpening
export { useBackend } from './backends/use-backend';
export type { BackendName, UseBackendOptions } from './backends/use-backend';
export { Student } from './infer/student';
export { provideOnnxRuntime } from './platform/provided';
export type { StudentLoadOptions, SharpenOptions, StudentInfo, StudentPrecision } from './infer/student';
export type { SharpenInput } from './infer/inputs';
export type { InferenceBackend } from './infer/engine';
export type { BuiltinModelName } from './infer/registry';
export { sharpenFiles } from './infer/batch';
export type { SharpenFilesOptions, BatchEvent, BatchSummary } from './infer/batch';
export { sharpenVideo } from './video/sharpen-video';
export type { SharpenVideoOptions, SharpenVideoResult, VideoInfo } from './video/sharpen-video';
export { TemporalFilter } from './video/temporal-filter';
export type { TemporalFilterOptions, TemporalFilterStats, FramePlane } from './video/temporal-filter';
export { readImage, writeImage } from './io/node-image';
export type { RawImage, ImageFormat } from './io/raw-image';
// models
export { buildStudent } from './models/student';
export type { StudentOptions, StudentArch } from './models/student';
export { buildTeacher } from './models/teacher';
export type { TeacherOptions } from './models/teacher';
export { buildEmt } from './models/emt';
export type { EmtOptions } from './models/emt';
export { loadPretrainedTeacher } from './models/pretrained-teachers';
export type { PretrainedTeacherName, PretrainedTeacherOptions } from './models/pretrained-teachers';
export { saveModel, loadModel } from './io/model-io';
export type { SaveModelOptions, SaveModelResult, ModelSource } from './io/model-io';
export { loadTorchWeights } from './io/torch-weights';
export type { TorchTensor, TorchWeights } from './io/torch-weights';
export { exportOnnx } from './models/onnx/export';
export type { OnnxExportOptions } from './models/onnx/export';
// training
export { openDataset } from './data/datasets';
export type { SyntheticOptions } from './data/datasets';
export type { PatchDataset, PatchBatch } from './data/types';
export { train } from './train/train';
export type { TrainStudentOptions } from './train/train';
export { distill } from './train/distill';
export type { DistillOptions } from './train/distill';
export type { TrainOptions, TrainScheduleOptions, TrainValidationOptions, TrainCheckpointOptions } from './train/options';
export type { TrainResult } from './train/loop';
export type { Teacher } from './train/teacher';
export type { LossWeights } from './losses/combined';
// quality and speed
export { psnr } from './metrics/psnr';
export { ssim } from './metrics/ssim';
export type { MetricImage, MetricOptions } from './metrics/metric-input';
export { evaluateStudent } from './infer/evaluate';
export type { EvaluateOptions, EvaluationReport } from './infer/evaluate';
export { benchmarkFps } from './bench/fps';
export type { FpsOptions, FpsResult } from './bench/fps';
