/**
 * The option and info types of {@link Student}: how it loads, how it sharpens, and what it reports. This module
 * imports nothing from student.ts (the links to `Student` resolve by name), which keeps the import graph acyclic.
 */
import type { TaskOptions } from '../core/task';
import type { SharpenWarning } from '../errors';
import type { ImageFormat } from '../io/node-image';
import type { InferenceBackend } from './engine';

/**
 * Arithmetic a {@link Student} runs in (see {@link StudentLoadOptions.precision}).
 *
 * @example
 * ```ts
 * const precision: StudentPrecision = fast ? 'int8' : 'float32';
 * const student = await Student.load('x2', { precision });
 * ```
 */
export type StudentPrecision = 'float32' | 'int8';

/**
 * Options of {@link Student.load} and {@link Student.fromModel}.
 *
 * @example
 * ```ts
 * const opts: StudentLoadOptions = { backend: 'wasm', modelBaseUrl: 'https://cdn.example/sharpen-kd/models/' };
 * ```
 */
export interface StudentLoadOptions extends TaskOptions {
  /**
   * Inference engine: `'onnx'` (ONNX Runtime), a TF.js backend (`'wasm'`, `'cpu'`, `'webgl'`, `'webgpu'`,
   * `'tensorflow'`), or `'auto'` (default): ONNX Runtime in Node when onnxruntime-node is installed
   * (3–5× faster than tfjs-wasm on these models) and in browsers once the app has handed onnxruntime-web to
   * `provideOnnxRuntime`; otherwise wasm in Node and the active TF.js backend in browsers.
   */
  backend?: InferenceBackend;
  /**
   * ONNX Runtime: the execution providers to try, best first, each on its own; the first whose session loads runs the
   * model ({@link StudentInfo.executionProvider}). Default: `['cpu']` in Node; in browsers `['webgpu', 'wasm']` where
   * `navigator.gpu` gives an adapter, else `['wasm']`. E.g. `['wasm']` keeps onnxruntime-web off the GPU.
   */
  executionProviders?: readonly string[];
  /** `bicubic` only: the upscaling factor (default 4). For other models it must match the model if given. */
  scale?: number;
  /** Node: folder holding the built-in model folders (default: `models/` in the installed package). */
  modelDir?: string;
  /** Browsers: URL of the folder serving the built-in models (`<url>/x4/model.json`). */
  modelBaseUrl?: string;
  /** Threads for ONNX Runtime or wasm, a positive integer (ONNX Runtime in Node: every core by default). */
  threads?: number;
  /**
   * Arithmetic of the graph: `'float32'` (default) or `'int8'`, the model's int8 graph (`model.int8.onnx` beside its
   * `model.json`: int8 weights, uint8 activations) on ONNX Runtime's CPU provider in Node. The shipped `x2`,
   * `x2-fast` and `x4-plus` have one (1.3–2.0× the float graph's speed, 0.1–0.25 dB less PSNR: guide, Backends);
   * `writeStudentOnnxInt8` builds one for a saved model. Needs onnxruntime-node; a model without an int8 graph is a
   * ModelError, any other engine a ConfigError.
   */
  precision?: StudentPrecision;
  /**
   * ONNX Runtime in Node: whether its worker threads spin between ops (default true, unless `SHARPEN_KD_ORT_SPINNING`
   * says `off`). Spinning is the fast choice on an idle machine; false suits a machine whose cores are busy with
   * other work, such as training runs (see `createOnnxRunner`).
   */
  spinning?: boolean;
  /**
   * ONNX Runtime in Node: run the model on a worker thread, so that the event loop stays free while an image or a
   * frame runs (default false). Worth it when the process has other work to overlap with the model, as
   * `sharpenVideo` has (it turns this on); calls still run one at a time, in order.
   */
  offThread?: boolean;
  /** @internal ONNX Runtime: the graph also writes I420 frames (for `sharpenVideo`: `TileRunner.runI420`). */
  i420Output?: boolean;
  /**
   * @internal ONNX Runtime, luma-detail students: run the graph up to the luma detail and the output stage (bilinear
   * upsample of the input + detail) in WebAssembly (`luma-detail-tail.ts`), the default; false runs the whole graph
   * (for A/B benchmarks).
   */
  lumaDetailTail?: boolean;
  /**
   * Pretrained teachers used as models (`emt-x4`, …): their checkpoint file or folder (default `$SHARPEN_KD_TEACHERS`);
   * see {@link loadPretrainedTeacher}.
   */
  teacherWeights?: string;
}

/**
 * Options of {@link Student.sharpen}.
 *
 * @example
 * ```ts
 * const png = await student.sharpen('in.jpg', { format: 'png', tile: 256, onProgress: (p) => console.log(p.done) });
 * const gentle = await student.sharpen('in.jpg', { strength: 0.5 }); // half of the model's correction
 * ```
 */
export interface SharpenOptions extends TaskOptions {
  /** Tile size in input pixels (default: chosen from the model's width and scale). Images up to this size run whole. */
  tile?: number;
  /** Return encoded bytes in this format, whatever the input kind. */
  format?: ImageFormat;
  /** JPEG / WebP quality (default 92). */
  quality?: number;
  /** Width of the feathered blend between tiles, input pixels (default 8). */
  feather?: number;
  /**
   * Refuse (InputError, `E_INPUT`) an encoded input (path, URL, bytes) with more decoded pixels than this, from
   * its header, before decoding: default `DEFAULT_MAX_PIXELS` (268,402,689, sharp's default); `Infinity` = no limit.
   */
  maxPixels?: number;
  /**
   * Refuse (InputError) an input whose output (input pixels × scale², all frames) would have more pixels than
   * this, before any work: default `DEFAULT_MAX_OUTPUT_PIXELS` (268,402,689); `Infinity` = no limit.
   */
  maxOutputPixels?: number;
  /**
   * How much of the model to apply, from 0 to 1 (default 1): `out = base + strength·(model(in) − base)`, `base` the
   * input itself at ×1 and its bicubic upscale at ×2 / ×4. 0 returns `base` without running the model, 1 the model's
   * output. Blended in float before rounding.
   */
  strength?: number;
  /**
   * Called for results that are produced with a caveat, e.g. only the first frame of an animated GIF is sharpened
   * because the asked format is PNG ({@link SharpenWarning}, code `W_FIRST_FRAME`).
   */
  onWarning?: (w: SharpenWarning) => void;
}

/**
 * What {@link Student.info} holds.
 *
 * @example
 * ```ts
 * console.log(student.info); // { name: 'x4', scale: 4, arch: 'compact', backend: 'onnx', receptiveField: 6, ... }
 * ```
 */
export interface StudentInfo {
  /** Name or path the model was loaded from. */
  name: string;
  scale: number;
  /** Architecture from the model metadata (`bicubic` for interpolation, `unknown` without metadata). */
  arch: string;
  /** Engine actually used: `onnx` or the TF.js backend name. */
  backend: string;
  /** ONNX Runtime's execution provider in use (`cpu` in Node, `webgpu` or `wasm` in browsers); absent on TF.js. */
  executionProvider?: string;
  /** Receptive-field radius in input pixels (tiles overlap by twice this plus the feather). */
  receptiveField: number;
  /** Default tile size in input pixels. */
  tile: number;
  /** Trainable and fixed weights (0 for bicubic). */
  params: number;
  /** Arithmetic of the graph that runs: `float32`, or `int8` for a model loaded with `precision: 'int8'`. */
  precision: StudentPrecision;
}
