/**
 * `Student`: a loaded super-resolution / sharpening model ready to run on images of any size.
 *
 * Loading picks the inference engine (ONNX Runtime in Node when installed, and in browsers once the app provided
 * onnxruntime-web; else a TF.js backend) and reads the
 * model's receptive field. `sharpen()` decodes the input, runs the colour through the model tile by tile
 * (`tile-engine.ts`), upscales alpha on its own with bicubic interpolation, and returns the same kind of image.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isTfTensor, tfCore } from '../backends/tf-lazy';
import { throwIfAborted } from '../core/task';
import { ConfigError, ModelError, SharpenError } from '../errors';
import type { ImageDataLike } from '../io/browser-image';
import type { ImageFormat } from '../io/node-image';
import { isFloatSamples, type FloatSamples, type ImageSamples, type IntegerSamples, type RawImage } from '../io/raw-image';
import { findModelInfo } from '../models/metadata';
import { isPretrainedTeacher } from '../models/pretrained-names';
import { currentPlatform } from '../platform/current';
import { checkEngineOptions, onnxPolicy, onnxTileRunner, prepareTfBackend, selectEngine, type EngineName } from './engine';
import { findStudentOnnx, STUDENT_ONNX_INT8_FILE, type StudentOnnxFile } from './student-onnx';
import type { SharpenOptions, StudentInfo, StudentLoadOptions, StudentPrecision } from './student-options';
import { checkFormatSize, checkOutputPixels } from '../io/pixel-limits';
import { sharpenFrames } from './frames';
import { encodePixels, loadInput, outputFormat, toKind, type SharpenInput } from './inputs';
import { allocLike, hasAlpha } from './pixels';
import { receptiveField } from './receptive-field';
import { checkStrength, strengthRunner } from './strength';
import {
  BUILTIN_SCALES,
  builtinModelLocation,
  isBuiltinModel,
  looksLikeName,
  unknownModelError,
} from './registry';
import { BICUBIC_RADIUS, bicubicRunner } from './runners';
import { countTiles, runTiled, type TileCounter, type TileRunner } from './tile-engine';
import type { TileParams } from './tile-plan';
import { bytesPerInputPixel, DEFAULT_FEATHER, defaultTileSize, probeScale, tileShape } from './model-geometry';

export type { StudentLoadOptions, SharpenOptions, StudentInfo, StudentPrecision } from './student-options';

/** @internal Engine internals of a Student, for benchmarks. */
export interface StudentInternals {
  runner: TileRunner;
  /** The layers model (absent for bicubic and for a shipped `.onnx` run without TF.js). */
  model?: tfl.LayersModel;
  /** FLOPs per input pixel, when the Student runs a `.onnx` file without its layers model. */
  flopsPerInputPixel?: number;
}

/** @internal Engine internals of each Student, for benchmarks (`frameRunner`). */
const INTERNALS = new WeakMap<Student, StudentInternals>();

/**
 * @internal The tile runner and model of a Student: `benchmarkFps` times whole frames through it.
 */
export function studentInternals(s: Student): StudentInternals {
  const x = INTERNALS.get(s);
  if (!x) throw new Error('internal: not a Student');
  return x;
}

/**
 * A loaded model: call {@link Student.sharpen} on images of any size; {@link Student.dispose} when done.
 *
 * @example
 * ```ts
 * const student = await Student.load('x4');
 * try {
 *   await fs.writeFile('big.png', await student.sharpen('small.png'));
 * } finally {
 *   student.dispose();
 * }
 * ```
 */
export class Student {
  /** Output size / input size. */
  readonly scale: number;
  /** What was loaded and how it runs. */
  readonly info: StudentInfo;
  /** Alias of {@link Student.sharpen}. */
  readonly upscale: Student['sharpen'];
  private disposed = false;
  private readonly alpha: TileRunner;
  private readonly margin: number;
  private readonly align: number;

  private constructor(
    private readonly runner: TileRunner,
    private readonly model: tfl.LayersModel | undefined,
    info: Omit<StudentInfo, 'tile' | 'precision'> & { precision?: StudentInfo['precision'] },
    align: number,
    bytesPerPixel: number,
    private readonly ownsModel = true,
    flopsPerInputPixel?: number,
  ) {
    this.scale = info.scale;
    this.margin = Math.ceil(info.receptiveField) + 1;
    this.align = align;
    this.info = { precision: 'float32', ...info, tile: defaultTileSize(bytesPerPixel, this.margin, align) };
    this.alpha = bicubicRunner(info.scale);
    this.upscale = this.sharpen.bind(this) as Student['sharpen'];
    INTERNALS.set(this, { runner, model, flopsPerInputPixel });
  }

  /**
   * Loads a built-in model (`x1`, `x2`, `x2-fast`, `x4`, `x4-plus`, `bicubic`), a saved model folder / `model.json` path (Node), or a
   * `model.json` URL.
   *
   * @throws ModelError for unknown names (listing the valid ones) or unreadable models; BackendError when the
   *   requested backend is not installed.
   * @example
   * ```ts
   * using student = await Student.load('x4');                 // ONNX Runtime if installed, else wasm
   * const up = await Student.load('bicubic', { scale: 3 });
   * const mine = await Student.load('runs/x2', { backend: 'wasm' });
   * const fast = await Student.load('x2', { precision: 'int8' }); // its int8 graph: ~1.4× the fps, 0.18 dB less
   * ```
   */
  static async load(nameOrPathOrUrl: string | URL, opts: StudentLoadOptions = {}): Promise<Student> {
    throwIfAborted(opts.signal);
    const src = nameOrPathOrUrl instanceof URL ? nameOrPathOrUrl.href : nameOrPathOrUrl;
    if (typeof src !== 'string' || src.length === 0) throw new ConfigError('Student.load needs a model name, path or URL');
    const precision = opts.precision ?? 'float32';
    if (precision !== 'float32' && precision !== 'int8') throw new ConfigError(`precision must be 'float32' or 'int8', got ${JSON.stringify(opts.precision)}`);
    const teacher = isPretrainedTeacher(src) || /\.(pth|pt|safetensors)$/i.test(src);
    if (precision === 'int8' && (src === 'bicubic' || teacher)) {
      throw new ConfigError(`precision 'int8' is for students with an int8 graph (the shipped x2, x2-fast and x4-plus, or a model folder with ${STUDENT_ONNX_INT8_FILE}), not ${src}`);
    }
    if (src === 'bicubic') return Student.bicubic(opts.scale ?? 4, opts);
    if (teacher) return Student.fromTeacher(src, opts);
    let location: string = src;
    if (isBuiltinModel(src)) {
      location = await builtinModelLocation(src as keyof typeof BUILTIN_SCALES, opts);
    } else if (looksLikeName(src)) {
      const exists = await currentPlatform().pathExists(src);
      if (!exists) throw unknownModelError(src);
    }
    // A `model.onnx` beside the model runs on ONNX Runtime as is: neither TF.js nor a conversion (where that graph
    // suits the platform's runtime: Node; browsers convert, see Platform.shippedOnnxGraphs).
    const backend = opts.backend ?? 'auto';
    if (precision === 'int8') return Student.fromInt8File(location, src, opts);
    if (onnxPolicy(backend) !== 'never' && currentPlatform().shippedOnnxGraphs) {
      checkEngineOptions(opts);
      const file = await findStudentOnnx(location);
      const ready = file && (await Student.fromOnnxFile(file, src, opts));
      if (ready) return ready;
    }
    // Weights are loaded into TF.js first (also for ONNX, which converts the layers model): a backend must exist.
    await prepareTfBackend(opts);
    const { loadModel } = await import('../io/model-io');
    const model = await loadModel(location, opts);
    try {
      return await Student.fromModel(model, { ...opts, name: src });
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * The Student of the int8 graph beside `location` (`precision: 'int8'`): ONNX Runtime's CPU provider in Node, or a
   * typed error (never a silent fall back to float).
   */
  private static async fromInt8File(location: string, name: string, opts: StudentLoadOptions): Promise<Student> {
    const backend = opts.backend ?? 'auto';
    if (backend !== 'auto' && backend !== 'onnx') throw new ConfigError(`precision 'int8' runs on ONNX Runtime: use backend 'onnx' (or 'auto'), not '${backend}'`);
    if (!currentPlatform().shippedOnnxGraphs) throw new ConfigError("precision 'int8' runs on ONNX Runtime in Node (onnxruntime-node); in browsers load the float model");
    checkEngineOptions(opts);
    if (opts.executionProviders?.some((p) => p !== 'cpu')) throw new ConfigError(`precision 'int8' runs on ONNX Runtime's cpu provider, not ${opts.executionProviders.join(', ')}`);
    const file = await findStudentOnnx(location, STUDENT_ONNX_INT8_FILE);
    if (!file) {
      throw new ModelError(`${name} has no int8 graph (${STUDENT_ONNX_INT8_FILE} beside its model.json, made from these weights): the shipped x2, x2-fast and x4-plus have one, and writeStudentOnnxInt8() builds one for a saved model`);
    }
    return (await Student.fromOnnxFile(file, name, { ...opts, backend: 'onnx' }, 'int8'))!;
  }

  /**
   * The Student of a ready ONNX graph beside a model ({@link findStudentOnnx}), or undefined when, on `auto`, ONNX
   * Runtime is not installed or cannot load it.
   */
  private static async fromOnnxFile(file: StudentOnnxFile, name: string, opts: StudentLoadOptions, precision: StudentPrecision = 'float32'): Promise<Student | undefined> {
    const { info } = file;
    if (opts.scale !== undefined && opts.scale !== info.scale) {
      throw new ConfigError(`model ${name} upscales by ${info.scale}, not ${opts.scale}: pick the model for scale ${opts.scale} or drop --scale`);
    }
    let engine: Awaited<ReturnType<typeof onnxTileRunner>>;
    try {
      engine = await onnxTileRunner(file.bytes, info.scale, opts);
    } catch (e) {
      if ((opts.backend ?? 'auto') === 'auto') return undefined;
      throw e;
    }
    return new Student(
      engine.runner,
      undefined,
      { name, scale: info.scale, arch: info.arch, backend: 'onnx', executionProvider: engine.provider, receptiveField: info.receptiveField, params: info.params, precision },
      info.align,
      info.bytesPerInputPixel,
      true,
      info.flopsPerInputPixel,
    );
  }

  /** A pretrained teacher by name (`emt-x4`, …) or an EMT PyTorch checkpoint path, as a Student. */
  private static async fromTeacher(src: string, opts: StudentLoadOptions): Promise<Student> {
    await prepareTfBackend(opts);
    let model: tfl.LayersModel;
    if (isPretrainedTeacher(src)) {
      const { loadPretrainedTeacher } = await import('../models/pretrained-teachers');
      model = await loadPretrainedTeacher(src, { weights: opts.teacherWeights, signal: opts.signal });
    } else {
      const [{ readTorchWeights }, { emtFromTorch }] = await Promise.all([import('../io/model-io-node'), import('../models/emt-weights')]);
      model = emtFromTorch(await readTorchWeights(src));
    }
    try {
      return await Student.fromModel(model, { ...opts, name: src });
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * Wraps a model you built or loaded yourself. The Student takes ownership (`dispose()` disposes the model)
   * unless `borrowModel: true`.
   *
   * @example
   * ```ts
   * const s = await Student.fromModel(buildStudent({ arch: 'espcn', scale: 2 }), { backend: 'cpu' });
   * ```
   */
  static async fromModel(model: tfl.LayersModel, opts: StudentLoadOptions & { name?: string; borrowModel?: boolean } = {}): Promise<Student> {
    if (opts.precision !== undefined && opts.precision !== 'float32') {
      throw new ConfigError(`precision '${String(opts.precision)}' runs a saved model's ${STUDENT_ONNX_INT8_FILE}: save the model, build it with writeStudentOnnxInt8(), then Student.load(<folder>, { precision: 'int8' })`);
    }
    const meta = findModelInfo(model);
    const scale = meta?.scale ?? (await probeScale(model));
    if (opts.scale !== undefined && opts.scale !== scale) {
      throw new ConfigError(`model ${opts.name ?? model.name} upscales by ${scale}, not ${opts.scale}: pick the model for scale ${opts.scale} or drop --scale`);
    }
    const rf = receptiveField(model);
    const engine = await selectEngine(model, scale, opts);
    return new Student(
      engine.runner,
      model,
      {
        name: opts.name ?? model.name,
        scale,
        arch: meta?.arch ?? 'unknown',
        backend: engine.name,
        ...(engine.provider ? { executionProvider: engine.provider } : {}),
        receptiveField: rf.radius,
        params: model.countParams(),
      },
      rf.align,
      bytesPerInputPixel(model, scale),
      !opts.borrowModel,
    );
  }

  private static async bicubic(scale: number, opts: StudentLoadOptions): Promise<Student> {
    if (!Number.isInteger(scale) || scale < 1 || scale > 8) throw new ConfigError(`bicubic scale must be an integer from 1 to 8, got ${scale}`);
    const engine: EngineName = await selectEngine(undefined, scale, opts).then((e) => e.name);
    return new Student(
      bicubicRunner(scale),
      undefined,
      { name: 'bicubic', scale, arch: 'bicubic', backend: engine, receptiveField: BICUBIC_RADIUS, params: 0 },
      1,
      bytesPerInputPixel(undefined, scale),
    );
  }

  /**
   * Sharpens / upscales an image of any size. Returns the same kind as the input (a file path or encoded bytes
   * give encoded bytes in the input's format), or encoded bytes in `format` when asked. Alpha is upscaled with
   * bicubic interpolation, gray stays gray, 16-bit stays 16-bit (PNG), EXIF orientation is applied and the
   * ICC profile kept. An animated GIF or WebP is sharpened frame by frame and returned as an animated WebP
   * (delays and loop kept), unless `format` is PNG or JPEG: then only its first frame is, with a `W_FIRST_FRAME`
   * warning (`onWarning`), as for the pages after the first of a multi-page TIFF. Inputs over `maxPixels`, or
   * whose output would be over `maxOutputPixels`, are refused before decoding. `strength` (0–1) blends the model's
   * output with the input (its bicubic upscale at ×2 / ×4).
   *
   * @throws InputError for unreadable, corrupt or too large images (naming the file); ConfigError for a strength
   *   outside [0, 1]; AbortError when aborted.
   * @example
   * ```ts
   * const png = await student.sharpen('photo.jpg', { format: 'png' });
   * const soft = await student.sharpen('photo.jpg', { strength: 0.5 });
   * const t = await student.sharpen(tf.zeros([64, 64, 3]) as tf.Tensor3D); // [256, 256, 3] for x4
   * ctx.putImageData(await student.sharpen(ctx.getImageData(0, 0, w, h)), 0, 0);
   * ```
   */
  sharpen(input: SharpenInput, opts: SharpenOptions & { format: ImageFormat }): Promise<Uint8Array>;
  sharpen(input: tf.Tensor3D, opts?: SharpenOptions): Promise<tf.Tensor3D>;
  sharpen(input: RawImage<IntegerSamples>, opts?: SharpenOptions): Promise<RawImage>;
  sharpen(input: RawImage<FloatSamples>, opts?: SharpenOptions): Promise<RawImage<Float32Array>>;
  sharpen(input: ImageData, opts?: SharpenOptions): Promise<ImageData>;
  sharpen(input: ImageDataLike, opts?: SharpenOptions): Promise<ImageDataLike>;
  sharpen(input: string | URL | Uint8Array | ArrayBuffer, opts?: SharpenOptions): Promise<Uint8Array>;
  sharpen(input: SharpenInput, opts?: SharpenOptions): Promise<Uint8Array | tf.Tensor3D | RawImage<ImageSamples> | ImageDataLike>;
  async sharpen(input: SharpenInput, opts: SharpenOptions = {}): Promise<Uint8Array | tf.Tensor3D | RawImage<ImageSamples> | ImageDataLike> {
    this.checkAlive();
    throwIfAborted(opts.signal);
    checkStrength(opts.strength);
    if (isTfTensor(input) && !opts.format) {
      const fast = await this.tryWholeTensor(input, opts);
      if (fast) return fast;
    }
    const loaded = await loadInput(input, undefined, { ...opts, scale: this.scale });
    const float = isFloatSamples(loaded.pixels.data);
    const frames = loaded.animation?.frames ?? 1;
    const format = loaded.kind === 'encoded' || opts.format ? outputFormat(opts.format, loaded.format, frames > 1) : undefined;
    if (format) checkFormatSize(loaded.name, format, loaded.pixels.width * this.scale, (loaded.pixels.height / frames) * this.scale);
    const out = await sharpenFrames(this, loaded.pixels, frames, { ...opts, float: float && !opts.format });
    if (loaded.kind === 'encoded' || opts.format) {
      return encodePixels(out, format!, { quality: opts.quality, icc: loaded.icc, animation: format === 'webp' ? loaded.animation : undefined });
    }
    return toKind(loaded.kind, out);
  }

  /**
   * Runs the model over an image (any size, 1–4 channels, 8/16-bit or float in [0, 1]) and returns a new image
   * `scale` times larger: of the same sample type for integer samples, 8-bit for float ones, float32 with
   * `float: true`. The value range follows from the sample type (see {@link RawImage}).
   *
   * @throws InputError when the output would have more than `maxOutputPixels` pixels (before any work); ConfigError
   *   for a bad tile, feather or strength.
   * @example
   * ```ts
   * const src: RawImage<Uint8Array> = { data: new Uint8Array(64 * 48 * 3), width: 64, height: 48, channels: 3 };
   * const out = await student.sharpenPixels(src); // 4x larger for x4, Uint8Array samples
   * ```
   */
  async sharpenPixels(src: RawImage<ImageSamples>, opts: SharpenOptions & { float?: boolean } = {}): Promise<RawImage<ImageSamples>> {
    this.checkAlive();
    const tile = opts.tile ?? this.info.tile;
    const feather = opts.feather ?? DEFAULT_FEATHER;
    if (!Number.isInteger(tile) || tile < 1) throw new ConfigError(`tile must be a positive integer, got ${tile}`);
    if (!Number.isInteger(feather) || feather < 0) throw new ConfigError(`feather must be a non-negative integer, got ${feather}`);
    checkOutputPixels(undefined, src.width, src.height, 1, this.scale, opts.maxOutputPixels);
    // With strength < 1 the colour runner also runs bicubic, whose support the tile margin must cover.
    const strength = checkStrength(opts.strength);
    const margin = strength < 1 ? Math.max(this.margin, BICUBIC_RADIUS + 1) : this.margin;
    // Very wide images get short, wide tile rows so that the float blending strip stays within budget.
    const shape = tileShape(tile, src.width, this.scale, { margin, feather, align: this.align });
    const colour: TileParams = { ...shape, margin, feather, align: this.align };
    const alpha: TileParams = { ...shape, margin: BICUBIC_RADIUS + 1, feather, align: 1 };
    const dst = allocLike(src, this.scale, opts.float ? 'float' : isFloatSamples(src.data) ? 'byte' : 'same');
    const counter: TileCounter = {
      done: 0,
      total: countTiles(src.width, src.height, colour) + (hasAlpha(src) ? countTiles(src.width, src.height, alpha) : 0),
    };
    await runTiled(strengthRunner(this.runner, strength), src, dst, 'color', colour, { ...opts, counter });
    if (hasAlpha(src)) await runTiled(this.alpha, src, dst, 'alpha', alpha, { ...opts, counter });
    return dst;
  }

  /** Tensor input that fits in one tile on a TF.js engine: predict directly, without leaving the backend. */
  private async tryWholeTensor(x: tf.Tensor, opts: SharpenOptions): Promise<tf.Tensor3D | undefined> {
    const tile = opts.tile ?? this.info.tile;
    if (checkStrength(opts.strength) !== 1) return undefined;
    if (!this.model || this.info.backend === 'onnx' || x.rank !== 3 || x.shape[2] !== 3) return undefined;
    const [h, w] = x.shape as number[];
    if (h > tile || w > tile || h === 0 || w === 0) return undefined;
    const model = this.model;
    const tf = await tfCore();
    return tf.tidy(() => {
      const y = model.predict(tf.expandDims(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), 0)) as tf.Tensor4D;
      return tf.squeeze(y, [0]) as tf.Tensor3D;
    });
  }

  private checkAlive(): void {
    if (this.disposed) throw new SharpenError('E_MODEL', 'this Student has been disposed: load it again');
  }

  /** Frees the model, its weights and any ONNX Runtime session. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.runner.dispose();
    this.alpha.dispose();
    if (this.ownsModel) this.model?.dispose();
  }

  /** `using student = await Student.load('x4')` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
