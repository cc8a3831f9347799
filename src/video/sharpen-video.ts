/**
 * Video: every frame through a student, streamed. Three stages run at once, joined by small bounded queues:
 * an ffmpeg decoder writes raw RGB frames to its stdout, the student sharpens them one by one (tiled like any
 * image when a frame is larger than a tile), and an ffmpeg encoder reads the results on its stdin and muxes them
 * with the input's audio (copied) and metadata into a temporary file beside the output, renamed at the end.
 * A full queue stops its producer, and a full pipe stops ffmpeg, so at most a few frames are in memory at once
 * whatever the length of the video. Node only.
 *
 * The model runs on ONNX Runtime's worker thread (`offThread`), with two frames in flight: while it runs one frame,
 * this thread filters the one before and feeds the pipes. For a yuv420p output (the default) the frames go to the
 * encoder as Y′CbCr 4:2:0 (I420), and the temporal filter works on those planes: half the bytes of RGB on the pipe,
 * and no conversion inside the encoder. On ONNX Runtime the model's graph writes the I420 bytes itself
 * (`models/onnx/i420-output.ts`), so 1.5 bytes per output pixel cross from the worker thread instead of 12 bytes of
 * float RGB; on other engines, and for frames tiled like large images, the float output is converted here (`yuv.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { throwIfAborted, type TaskOptions } from '../core/task';
import { ConfigError, InputError, IoError, SharpenError } from '../errors';
import type { InferenceBackend } from '../infer/engine';
import { builtinForScale } from '../infer/registry';
import { Student } from '../infer/student';
import type { StudentPrecision } from '../infer/student-options';
import { readTile, writeRows } from '../infer/pixels';
import type { RawImage } from '../io/raw-image';
import { studentInternals } from '../infer/student';
import { LumaDetailTail } from '../infer/luma-detail-tail';
import { TemporalFilter, type FramePlane } from './temporal-filter';
import { i420ConvWeights, i420Size, rgbToI420 } from './yuv';
import { encoderInfo, ffmpegReason, findFfmpeg, killAndWait, probeVideo, type EncoderInfo, type Ffmpeg, type VideoInfo } from './ffmpeg';

export type { VideoInfo } from './ffmpeg';

/**
 * Options of {@link sharpenVideo}.
 *
 * @example
 * ```ts
 * const opts: SharpenVideoOptions = { scale: 2, crf: 20, codec: 'libx265', overwrite: true, onProgress: (p) => console.log(p.done, p.total) };
 * ```
 */
export interface SharpenVideoOptions extends TaskOptions {
  /**
   * The model: a name or path as {@link Student.load} takes (`x1`, `x2`, `x2-fast`, `x4`, `x4-plus`, `bicubic`, a saved model folder), or a
   * loaded {@link Student} (borrowed: not disposed). Default: the shipped student for `scale`.
   */
  model?: string | Student;
  /** Upscaling factor: picks the shipped model (1, 2 or 4; default 4), or the scale of `bicubic`. */
  scale?: number;
  /** Inference engine for a model given by name or path (default `auto`: ONNX Runtime when installed). */
  backend?: InferenceBackend;
  /** Threads for ONNX Runtime or wasm. */
  threads?: number;
  /**
   * ONNX Runtime in Node: whether its worker threads spin between ops. Default false here, unless
   * `SHARPEN_KD_ORT_SPINNING` says otherwise: ffmpeg decodes and encodes on the same cores, and spinning threads take
   * their cycles (`scripts/bench-video.ts`, ×4 320×180 → 1280×720 on 2 idle cores, 3 interleaved runs each: 17.6–18.6
   * fps and 114–121 CPU-ms per frame without spinning, 14.8–15.1 fps and 141–143 CPU-ms with it).
   */
  spinning?: boolean;
  /** For a model given by name or path: `'int8'` runs its int8 graph (see {@link StudentLoadOptions.precision}). */
  precision?: StudentPrecision;
  /** Tile size in input pixels, as for images (default: chosen from the model; smaller frames run whole). */
  tile?: number;
  /** The ffmpeg binary to use (default `$SHARPEN_KD_FFMPEG`, else `ffmpeg` on PATH, else `@ffmpeg-installer/ffmpeg`). */
  ffmpegPath?: string;
  /** Video encoder (default `libx264`; `libvpx-vp9` for a `.webm` output). Any video encoder of your ffmpeg. */
  codec?: string;
  /**
   * Constant-quality level of encoders that have one (`-crf`): lower is better and larger. Default 18 for
   * libx264 / libx265 (0–51), 31 for libvpx-vp9 (0–63); encoders without CRF keep their own rate control.
   */
  crf?: number;
  /**
   * Encoder speed preset of encoders that have one (libx264 / libx265: `ultrafast` … `veryslow`). Default
   * `veryfast` there: the encoder shares the CPU with the model, and at a given CRF a slower preset mostly buys
   * a smaller file.
   */
  preset?: string;
  /** Pixel format of the encoded video (default `yuv420p`, which every player reads). */
  pixelFormat?: string;
  /** Copy the input's audio streams as they are (default true); false drops them. */
  audio?: boolean;
  /** Replace an existing output file (even the input itself). Off by default: an existing output is an error. */
  overwrite?: boolean;
  /**
   * Strength of the temporal filter, 0 to 0.95 (0: off; default 0.5). A model that
   * sharpens each frame on its own also sharpens the noise of each frame, which flickers on static content; the
   * filter averages the output over frames where the input holds still (up to its noise) and passes moving content
   * and scene cuts through ({@link TemporalFilter}). At 0.5 the frame-to-frame change on static content falls to
   * about 0.4 of what it was.
   */
  temporal?: number;
  /**
   * The input's noise level for the temporal filter: standard deviation in 8-bit levels, as if independent per
   * pixel, channel and frame. Default: estimated from every pair of frames.
   */
  temporalNoise?: number;
}

/**
 * What {@link sharpenVideo} returns.
 *
 * @example
 * ```ts
 * const r: SharpenVideoResult = await sharpenVideo('in.mp4', 'out.mp4');
 * console.log(`${r.frames} frames at ${r.fps.toFixed(1)} fps, ${r.width}x${r.height}`);
 * ```
 */
export interface SharpenVideoResult {
  /** The file written. */
  output: string;
  /** Frames decoded, sharpened and encoded. */
  frames: number;
  /** Wall time from the first spawn to the rename, seconds. */
  seconds: number;
  /** Frames per second end to end (decode, model, encode). */
  fps: number;
  /** Output frame size. */
  width: number;
  height: number;
  /** Stream info of the input. */
  input: VideoInfo;
  /** Model name and the engine it ran on. */
  model: string;
  backend: string;
  /** Encoder used. */
  codec: string;
  /** True when an audio stream was copied. */
  audio: boolean;
  /** The ffmpeg binary used. */
  ffmpeg: string;
  /** The temporal filter's strength (0: off), and the frames that reset it (scene cuts). */
  temporal: { strength: number; resets: number };
}

/** Frames decoded ahead of the model, and sharpened frames waiting for the encoder. */
const QUEUE_FRAMES = 3;

/** Output container extensions and the codec used when none is given. */
const CONTAINERS: Record<string, string> = { '.mp4': 'libx264', '.m4v': 'libx264', '.mov': 'libx264', '.mkv': 'libx264', '.avi': 'libx264', '.webm': 'libvpx-vp9' };

/** A single-producer, single-consumer queue of at most `capacity` items; `close()` ends it for both sides. */
class BoundedQueue<T> {
  private readonly items: T[] = [];
  private closed = false;
  private wakeProducer?: () => void;
  private wakeConsumer?: () => void;
  constructor(private readonly capacity: number) {}

  /** Waits for room, then adds. Returns false (dropping the item) once the queue is closed. */
  async put(item: T): Promise<boolean> {
    while (this.items.length >= this.capacity && !this.closed) await new Promise<void>((r) => (this.wakeProducer = r));
    if (this.closed) return false;
    this.items.push(item);
    this.wakeConsumer?.();
    return true;
  }

  /** The next item, or undefined when the queue is closed and empty. */
  async take(): Promise<T | undefined> {
    while (this.items.length === 0) {
      if (this.closed) return undefined;
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
    const item = this.items.shift();
    this.wakeProducer?.();
    return item;
  }

  /** No more items will be put; pending `take`s drain what is left, pending `put`s return false. */
  close(): void {
    this.closed = true;
    this.wakeProducer?.();
    this.wakeConsumer?.();
  }
}

/** The last few KB of a child's stderr, for error messages. */
function stderrTail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    text = (text + d).slice(-4000);
  });
  return () => text;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
}

/** Colour matrix for YUV <-> RGB: the source's when tagged, else what players assume (BT.709 from 720 lines up). */
function colourMatrix(info: VideoInfo): { matrix: string; tag: string } {
  const cs = info.colorSpace;
  if (cs === 'bt709' || cs === 'smpte240m' || cs === 'fcc') return { matrix: cs, tag: cs };
  if (cs === 'smpte170m' || cs === 'bt470bg' || cs === 'bt601') return { matrix: 'smpte170m', tag: cs === 'bt601' ? 'smpte170m' : cs };
  if (cs === 'bt2020nc' || cs === 'bt2020c') return { matrix: 'bt2020', tag: 'bt2020nc' };
  return info.height >= 720 ? { matrix: 'bt709', tag: 'bt709' } : { matrix: 'smpte170m', tag: 'smpte170m' };
}

/** Resolved encoder settings (validated against what this ffmpeg's encoder accepts). */
interface EncodeSettings {
  encoder: EncoderInfo;
  args: string[];
  pixelFormat: string;
}

async function encodeSettings(ffmpeg: Ffmpeg, ext: string, opts: SharpenVideoOptions, outW: number, outH: number): Promise<EncodeSettings> {
  const enc = await encoderInfo(ffmpeg, opts.codec ?? CONTAINERS[ext]);
  const pixelFormat = opts.pixelFormat ?? 'yuv420p';
  if (!/^[a-z0-9_]+$/.test(pixelFormat)) throw new ConfigError(`pixel format "${pixelFormat}" is not a pixel format name (e.g. yuv420p)`);
  if (enc.pixelFormats.length > 0 && !enc.pixelFormats.includes(pixelFormat)) {
    throw new ConfigError(`${enc.name} cannot encode pixel format ${pixelFormat}: use one of ${enc.pixelFormats.join(', ')}`);
  }
  const sub = /^(?:yuvj?|nv)(420|422|411|410)|^nv(12|21|16|20)/.exec(pixelFormat);
  const oddW = outW % 2 === 1 && sub !== null;
  const oddH = outH % 2 === 1 && sub !== null && /420|410|nv12|nv21/.test(pixelFormat);
  if (oddW || oddH) {
    throw new ConfigError(`the output is ${outW}x${outH}, but ${pixelFormat} needs an even ${oddW ? 'width' : 'height'}: use pixelFormat yuv444p (--pix-fmt yuv444p), or an even-sized input`);
  }
  const args = ['-c:v', enc.name, '-pix_fmt', pixelFormat];
  const vpx = /^libvpx/.test(enc.name);
  if (enc.options.has('crf')) {
    const max = /^libx26[45]/.test(enc.name) ? 51 : (enc.crfMax ?? 63);
    const crf = opts.crf ?? (vpx ? 31 : 18);
    if (typeof crf !== 'number' || !Number.isFinite(crf) || crf < 0 || crf > max) throw new ConfigError(`crf must be a number from 0 to ${max} for ${enc.name}, got ${opts.crf}`);
    args.push('-crf', String(crf));
    if (vpx) args.push('-b:v', '0');
  } else if (opts.crf !== undefined) {
    throw new ConfigError(`${enc.name} has no CRF (constant quality) setting: drop crf / --crf, or use libx264, libx265 or libvpx-vp9`);
  }
  if (enc.options.has('preset')) {
    const preset = opts.preset ?? (/^libx26[45]/.test(enc.name) ? 'veryfast' : undefined);
    if (preset !== undefined) {
      if (!/^[a-z0-9_-]+$/i.test(preset)) throw new ConfigError(`preset "${preset}" is not a preset name (e.g. veryfast, medium)`);
      args.push('-preset', preset);
    }
  } else if (opts.preset !== undefined) {
    throw new ConfigError(`${enc.name} has no preset setting: drop preset / --preset`);
  }
  // libvpx's default ("good", cpu-used 1) runs at a few frames per second; realtime keeps up with the model.
  if (vpx && enc.options.has('deadline')) args.push('-deadline', 'realtime', '-cpu-used', '8');
  if (vpx && enc.options.has('row-mt')) args.push('-row-mt', '1');
  return { encoder: enc, args, pixelFormat };
}

/** WebM holds VP8 / VP9 / AV1 video and Opus / Vorbis audio only: say so before any work. */
function checkWebm(encoder: string, audioCodec: string | undefined): void {
  if (!/vp8|vp9|libvpx|av1|rav1e/i.test(encoder)) throw new ConfigError(`a .webm file holds VP8, VP9 or AV1 video, not ${encoder}: use codec libvpx-vp9 (the default for .webm), or an .mp4 / .mkv output`);
  if (audioCodec && !/^(opus|vorbis)$/.test(audioCodec)) {
    throw new ConfigError(`the input's ${audioCodec} audio cannot be copied into a .webm file (Opus or Vorbis only): use an .mkv or .mp4 output, or drop the audio (audio: false / --no-audio)`);
  }
}

/** Temporary file beside `output`, ending in the same extension (ffmpeg picks the container from it). */
function tempName(path: typeof import('node:path'), output: string): string {
  const ext = path.extname(output);
  return path.join(path.dirname(output), `.${path.basename(output, ext)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp${ext}`);
}

/** Loads the model `opts` asks for, or borrows the given Student. */
async function loadStudent(opts: SharpenVideoOptions): Promise<{ student: Student; owned: boolean }> {
  if (opts.model instanceof Student) {
    if (opts.scale !== undefined && opts.scale !== opts.model.scale) throw new ConfigError(`the Student upscales by ${opts.model.scale}, not ${opts.scale}`);
    return { student: opts.model, owned: false };
  }
  let name = opts.model;
  if (!name) {
    const scale = opts.scale ?? 4;
    name = builtinForScale(scale);
    if (!name) throw new ConfigError(`there is no shipped model for scale ${scale}: use model 'bicubic' (--model bicubic), or a model trained for x${scale}`);
  }
  const scale = name === 'bicubic' ? (opts.scale ?? 4) : opts.scale;
  const spinning = opts.spinning ?? (process.env.SHARPEN_KD_ORT_SPINNING ? undefined : false);
  const student = await Student.load(name, { backend: opts.backend, scale, threads: opts.threads, spinning, offThread: true, i420Output: true, precision: opts.precision, signal: opts.signal });
  return { student, owned: true };
}

/** Converts one decoded frame into what the encoder takes: the model's output as I420 or as 8-bit RGB. */
type FrameFn = (frame: Uint8Array) => Promise<Uint8Array>;

/**
 * The per-frame work before the temporal filter. A frame that fits in one tile goes straight through the model's
 * tile runner, and its float output is converted once (to I420, or to 8-bit RGB); a larger frame is tiled by
 * `sharpenPixels` as any image is, then converted.
 */
function frameFunction(student: Student, inW: number, inH: number, opts: SharpenVideoOptions, i420: string | undefined): FrameFn {
  const s = student.scale;
  const outW = inW * s;
  const outH = inH * s;
  const tile = opts.tile ?? student.info.tile;
  const runner = studentInternals(student).runner;
  const whole = inW <= tile && inH <= tile && runner.channels.includes(3);
  const layout = runner.layout ?? 'nhwc';
  // The graph converts to I420 itself when it can (ONNX Runtime): 1.5 bytes per pixel come back instead of 12.
  const weights = i420 && runner.runI420 && layout === 'nchw' && outW % 2 === 0 && outH % 2 === 0 ? i420ConvWeights(i420) : undefined;
  // A luma-detail student's graph can stop at its detail, and the output stage run here (WebAssembly SIMD).
  const tail = whole && weights && runner.runLumaDetail ? (LumaDetailTail.supports(inW, inH, s, 'i420') ? LumaDetailTail.create() : undefined) : undefined;
  return async (frame) => {
    const src: RawImage<Uint8Array> = { data: frame, width: inW, height: inH, channels: 3, bits: 8 };
    if (whole) {
      throwIfAborted(opts.signal);
      if (tail) {
        const input = readTile(src, 'color', 0, 0, inW, inH, layout);
        return tail.i420(input, await runner.runLumaDetail!(input, inH, inW), inW, inH, s, weights!);
      }
      if (weights) return runner.runI420!(readTile(src, 'color', 0, 0, inW, inH, layout), inH, inW, weights);
      const out = await runner.run(readTile(src, 'color', 0, 0, inW, inH, layout), inH, inW, 3, { transient: true });
      if (i420) return rgbToI420(out, layout === 'nchw' ? 'planar' : 'interleaved', outW, outH, i420, new Uint8Array(i420Size(outW, outH)));
      const rgb: RawImage<Uint8Array> = { data: new Uint8Array(outW * outH * 3), width: outW, height: outH, channels: 3, bits: 8 };
      writeRows(rgb, 'color', out, 0, outH, layout);
      return rgb.data;
    }
    const tiled = { tile: opts.tile, signal: opts.signal, maxOutputPixels: Infinity };
    if (!i420) return ((await student.sharpenPixels(src, tiled)) as RawImage<Uint8Array>).data;
    const out = (await student.sharpenPixels(src, { ...tiled, float: true })) as RawImage<Float32Array>;
    return rgbToI420(out.data, 'interleaved', outW, outH, i420, new Uint8Array(i420Size(outW, outH)));
  };
}

/**
 * Sharpens / upscales a video file with a student, frame by frame, streaming: ffmpeg decodes, the model runs and
 * ffmpeg encodes at the same time, with a few frames in flight, so memory stays flat whatever the video's length.
 * The frame rate is kept, the audio streams are copied as they are and the container metadata too. The output is
 * written to a temporary file beside `output` and renamed when complete: on abort or error it is deleted, and an
 * existing `output` is left untouched. Frames larger than a tile are tiled as images are. Node only; needs ffmpeg
 * (on PATH, or `npm install @ffmpeg-installer/ffmpeg`, or `ffmpegPath`).
 *
 * Frames are upscaled one by one, then a temporal filter (option `temporal`, on by default) averages the output over
 * frames where the input is static, so that the model's sharpening of each frame's noise does not flicker; moving
 * content and scene cuts pass through.
 *
 * Progress reports (`onProgress`) have stage `'video'`, `done` = frames encoded, `total` = frames expected from the
 * input's duration (absent when the container does not say), and `info.fps` (recent frames per second).
 *
 * @throws BackendError when no ffmpeg is found; InputError for a missing, unreadable or non-video input (naming it);
 *   ConfigError for bad options (codec, crf, preset, pixel format, output extension, temporal, temporalNoise) or an
 *   existing output without `overwrite`; IoError when encoding or writing fails; AbortError when aborted.
 * @example
 * ```ts
 * import { sharpenVideo } from 'sharpen-kd';
 * const ac = new AbortController();
 * process.once('SIGINT', () => ac.abort());
 * const r = await sharpenVideo('in.mp4', 'out.mp4', { scale: 4, signal: ac.signal, onProgress: (p) => console.log(`${p.done}/${p.total ?? '?'}`) });
 * console.log(`${r.frames} frames, ${r.fps.toFixed(1)} fps`);
 * ```
 */
export async function sharpenVideo(input: string, output: string, opts: SharpenVideoOptions = {}): Promise<SharpenVideoResult> {
  throwIfAborted(opts.signal);
  if (typeof input !== 'string' || !input) throw new ConfigError('sharpenVideo needs an input file path');
  if (typeof output !== 'string' || !output) throw new ConfigError('sharpenVideo needs an output file path');
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  const ext = path.extname(output).toLowerCase();
  if (!(ext in CONTAINERS)) throw new ConfigError(`cannot write a video to "${output}": use a file ending in ${Object.keys(CONTAINERS).join(', ')}`);
  const inputAbs = path.resolve(input);
  const outputAbs = path.resolve(output);
  if (!opts.overwrite) {
    if (inputAbs === outputAbs) throw new ConfigError(`output ${output} is the input (use overwrite / --overwrite to replace it)`);
    if (await fs.stat(outputAbs).catch(() => undefined)) throw new ConfigError(`output ${output} exists (use overwrite / --overwrite to replace it)`);
  }

  if (opts.model instanceof Student && opts.precision !== undefined && opts.precision !== opts.model.info.precision) {
    throw new ConfigError(`the Student runs its ${opts.model.info.precision} graph, not ${opts.precision}: load it with that precision`);
  }
  const temporal = new TemporalFilter({ strength: opts.temporal, noise: opts.temporalNoise });
  const ffmpeg = await findFfmpeg({ ffmpegPath: opts.ffmpegPath });
  const info = await probeVideo(ffmpeg, input, opts.signal);
  const { student, owned } = await loadStudent(opts);
  try {
    const s = student.scale;
    const outW = info.width * s;
    const outH = info.height * s;
    const settings = await encodeSettings(ffmpeg, ext, opts, outW, outH);
    if (ext === '.webm') checkWebm(settings.encoder.name, opts.audio !== false ? info.audioCodec : undefined);
    throwIfAborted(opts.signal);
    return await runPipeline({ ffmpeg, info, student, temporal, settings, input, inputAbs, outputAbs, output, outW, outH, opts });
  } finally {
    if (owned) student.dispose();
  }
}

interface PipelineArgs {
  ffmpeg: Ffmpeg;
  info: VideoInfo;
  student: Student;
  temporal: TemporalFilter;
  settings: EncodeSettings;
  input: string;
  inputAbs: string;
  output: string;
  outputAbs: string;
  outW: number;
  outH: number;
  opts: SharpenVideoOptions;
}

async function runPipeline(a: PipelineArgs): Promise<SharpenVideoResult> {
  const { ffmpeg, info, student, temporal, settings, opts } = a;
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  await fs.mkdir(path.dirname(a.outputAbs), { recursive: true }).catch((e: Error) => {
    throw new IoError(`cannot create the folder of ${a.output}: ${e.message}`, { cause: e });
  });
  const tmp = tempName(path, a.outputAbs);
  const yuv = /^(yuv|nv)/.test(settings.pixelFormat);
  const colour = colourMatrix(info);
  // yuv420p output: frames go to the encoder as I420, converted here with the output's matrix.
  const i420 = settings.pixelFormat === 'yuv420p' ? colour.matrix : undefined;
  const audio = opts.audio !== false && info.audioCodec !== undefined;
  const t0 = performance.now();

  // Decoder: the video stream as raw RGB frames at a constant rate (variable-rate inputs get frames repeated or
  // dropped, as ffmpeg does for any constant-rate output), upright (rotation metadata applied).
  // The colour matrix is ignored for RGB sources.
  const decArgs = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', a.inputAbs, '-map', info.stream, '-an', '-sn', '-dn'];
  decArgs.push('-vf', `scale=in_color_matrix=${colour.matrix}`, '-r', info.rate, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  // Encoder: raw frames on stdin + the input again, for its audio and metadata.
  const encArgs = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  encArgs.push('-f', 'rawvideo', '-pix_fmt', i420 ? 'yuv420p' : 'rgb24', '-s', `${a.outW}x${a.outH}`, '-framerate', info.rate, '-i', 'pipe:0');
  encArgs.push('-i', a.inputAbs, '-map', '0:v:0');
  if (audio) encArgs.push('-map', '1:a?', '-c:a', 'copy');
  else encArgs.push('-an');
  encArgs.push('-map_metadata', '1', ...settings.args);
  if (yuv) {
    if (!i420) encArgs.push('-vf', `scale=out_color_matrix=${colour.matrix}:out_range=tv`);
    encArgs.push('-colorspace', colour.tag, '-color_range', 'tv');
    if (colour.tag === 'bt709' || colour.tag === 'smpte170m') encArgs.push('-color_primaries', colour.tag, '-color_trc', colour.tag);
  }
  if (info.displayAspect) encArgs.push('-aspect', info.displayAspect);
  encArgs.push(tmp);

  // Own process groups (detached): a Ctrl-C in the terminal reaches this process, which stops ffmpeg itself,
  // instead of ffmpeg finishing a partial file on its own.
  const spawnOpts = { detached: true, windowsHide: true } as const;
  let dec: ChildProcess | undefined;
  let enc: ChildProcess | undefined;
  let failure: unknown;
  const decoded = new BoundedQueue<Uint8Array>(QUEUE_FRAMES);
  const sharpened = new BoundedQueue<Uint8Array>(QUEUE_FRAMES);
  const fail = (e: unknown): void => {
    if (failure !== undefined) return;
    failure = e;
    decoded.close();
    sharpened.close();
    dec?.kill('SIGKILL');
    enc?.kill('SIGKILL');
  };
  const onAbort = (): void => {
    try {
      throwIfAborted(opts.signal);
    } catch (e) {
      fail(e);
    }
  };
  opts.signal?.addEventListener('abort', onAbort);
  // A forced exit (process.exit, e.g. on a second Ctrl-C) skips the cleanup below: stop ffmpeg, whose processes are
  // detached, and delete the temporary file here, synchronously.
  const { rmSync } = await import('node:fs');
  const onExit = (): void => {
    dec?.kill('SIGKILL');
    enc?.kill('SIGKILL');
    rmSync(tmp, { force: true });
  };
  process.once('exit', onExit);

  const spawnChild = (args: string[], stdio: ['ignore', 'pipe', 'pipe'] | ['pipe', 'ignore', 'pipe']): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = spawn(ffmpeg.path, args, { ...spawnOpts, stdio });
      child.once('spawn', () => resolve(child));
      child.once('error', reject);
    });

  let framesIn = 0;
  let framesOut = 0;
  try {
    try {
      dec = await spawnChild(decArgs, ['ignore', 'pipe', 'pipe']);
      enc = await spawnChild(encArgs, ['pipe', 'ignore', 'pipe']);
    } catch (e) {
      throw new IoError(`cannot start ffmpeg (${ffmpeg.path}): ${(e as Error).message}`, { cause: e });
    }
    const decErr = stderrTail(dec);
    const encErr = stderrTail(enc);
    const decoder = dec;
    const encoder = enc;
    encoder.stdin!.on('error', () => undefined); // EPIPE when the encoder dies: reported from its exit status.
    let inputEnded = false;
    // The encoder stopping before all frames are in is a failure even while the other stages are still busy.
    void exited(encoder).then(({ code, signal }) => {
      if (!inputEnded) fail(encoderError(ffmpegReason(encErr()), signal ?? `exit code ${code}`, a.output, audio ? info.audioCodec : undefined));
    });

    const frameBytes = info.width * info.height * 3;
    const decodeStage = async (): Promise<void> => {
      let frame = new Uint8Array(frameBytes);
      let filled = 0;
      for await (const chunk of decoder.stdout! as AsyncIterable<Buffer>) {
        for (let off = 0; off < chunk.length; ) {
          const n = Math.min(frameBytes - filled, chunk.length - off);
          frame.set(chunk.subarray(off, off + n), filled);
          filled += n;
          off += n;
          if (filled === frameBytes) {
            if (!(await decoded.put(frame))) return;
            framesIn++;
            frame = new Uint8Array(frameBytes);
            filled = 0;
          }
        }
      }
      const { code, signal } = await exited(decoder);
      if (failure !== undefined) return;
      if (code !== 0) throw new InputError(`ffmpeg cannot decode it (${signal ?? `exit code ${code}`}): ${ffmpegReason(decErr())}`, { file: a.input });
      if (framesIn === 0) throw new InputError('no video frame could be decoded', { file: a.input });
      decoded.close();
    };

    // Two frames in flight: the model (on its worker thread) runs one while this thread converts and filters the
    // one before. The temporal filter takes the frames in order.
    const runFrame = frameFunction(student, info.width, info.height, opts, i420);
    const planes: FramePlane[] = i420
      ? [
          { offset: 0, width: a.outW, height: a.outH, channels: 1 },
          { offset: a.outW * a.outH, width: a.outW / 2, height: a.outH / 2, channels: 1 },
          { offset: (a.outW * a.outH * 5) / 4, width: a.outW / 2, height: a.outH / 2, channels: 1 },
        ]
      : [{ offset: 0, width: a.outW, height: a.outH, channels: 3 }];
    const inferStage = async (): Promise<void> => {
      const inflight: { src: RawImage<Uint8Array>; out: Promise<Uint8Array> }[] = [];
      const finishOne = async (): Promise<boolean> => {
        const { src, out } = inflight.shift()!;
        const frame = await out;
        return sharpened.put(temporal.strength > 0 ? temporal.pushPlanes(src, frame, planes, frame) : frame); // in place: the frame is ours
      };
      for (let f = await decoded.take(); f !== undefined; f = await decoded.take()) {
        const out = runFrame(f);
        out.catch(() => undefined); // awaited in order below; a failure is reported there
        inflight.push({ src: { data: f, width: info.width, height: info.height, channels: 3, bits: 8 }, out });
        if (inflight.length >= 2 && !(await finishOne())) return;
      }
      while (inflight.length > 0) if (!(await finishOne())) return;
      sharpened.close();
    };

    const recent: number[] = [];
    const encodeStage = async (): Promise<void> => {
      const stdin = encoder.stdin!;
      let cutShort = false;
      for (let f = await sharpened.take(); f !== undefined; f = await sharpened.take()) {
        if (stdin.destroyed) {
          cutShort = true;
          break;
        }
        if (!stdin.write(f)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              stdin.off('drain', done);
              stdin.off('close', done);
              resolve();
            };
            stdin.on('drain', done);
            stdin.on('close', done);
          });
        }
        if (failure !== undefined) return;
        framesOut++;
        const now = performance.now();
        recent.push(now);
        while (recent.length > 2 && now - recent[0] > 2000) recent.shift();
        const fps = recent.length > 1 ? ((recent.length - 1) * 1000) / (now - recent[0]) : 0;
        const total = info.frames !== undefined && info.frames >= framesOut ? info.frames : undefined;
        opts.onProgress?.({ stage: 'video', done: framesOut, total, info: { fps: Number(fps.toFixed(1)) } });
      }
      if (failure !== undefined) return;
      inputEnded = !cutShort;
      stdin.end();
      const { code, signal } = await exited(encoder);
      if (failure !== undefined) return;
      if (code !== 0 || cutShort) throw encoderError(ffmpegReason(encErr()), signal ?? `exit code ${code}`, a.output, audio ? info.audioCodec : undefined);
    };

    await Promise.all([decodeStage().catch(fail), inferStage().catch(fail), encodeStage().catch(fail)]);
    if (failure !== undefined) throw failure;
    throwIfAborted(opts.signal);
    if (framesOut !== framesIn) throw new IoError(`ffmpeg took ${framesOut} of ${framesIn} frames for ${a.output}`);
    try {
      await fs.rename(tmp, a.outputAbs);
    } catch (e) {
      throw new IoError(`cannot write ${a.output}: ${(e as Error).message}`, { cause: e });
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      output: a.output,
      frames: framesOut,
      seconds,
      fps: framesOut / seconds,
      width: a.outW,
      height: a.outH,
      input: info,
      model: student.info.name,
      backend: student.info.backend,
      codec: settings.encoder.name,
      audio,
      ffmpeg: ffmpeg.path,
      temporal: { strength: temporal.strength, resets: temporal.stats.resets },
    };
  } catch (e) {
    fail(e);
    throw e instanceof SharpenError ? e : new IoError(`video pipeline failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // The exit hook stays until the temporary file is gone: a forced exit while ffmpeg is being stopped (a second
    // Ctrl-C right after the first) must still delete it.
    await Promise.all([killAndWait(dec), killAndWait(enc)]);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    process.off('exit', onExit);
  }
}

/** A typed error for a failed encode: options the container refuses are ConfigErrors, the rest IoErrors. */
function encoderError(reason: string, status: string, output: string, audioCodec: string | undefined): SharpenError {
  if (/No space left|Permission denied|Read-only file system|Input\/output error/i.test(reason)) return new IoError(`cannot write ${output}: ${reason}`);
  if (audioCodec && /codec not currently supported in container|Could not find tag for codec|Could not write header|incorrect codec parameters/i.test(reason)) {
    return new ConfigError(`ffmpeg cannot write ${output} (${status}): ${reason}. The ${audioCodec} audio may not fit this container: use another extension (.mkv takes most codecs) or drop the audio (audio: false / --no-audio)`);
  }
  if (/not currently supported in container|Could not find tag for codec|Only VP8 or VP9|Could not write header|Error initializing output stream|Invalid argument/i.test(reason)) {
    return new ConfigError(`ffmpeg cannot write ${output} with these settings (${status}): ${reason}`);
  }
  return new IoError(`ffmpeg failed to encode ${output} (${status}): ${reason}`);
}
