/**
 * ffmpeg as a tool (Node only): finding the binary, reading a video's stream info from `ffmpeg -i`'s report
 * (ffprobe is not needed, so the ffmpeg of `@ffmpeg-installer/ffmpeg`, which ships without it, is enough),
 * asking an encoder what it accepts, and running short commands. Node modules are imported inside the functions
 * so that the library still bundles for browsers.
 */
import type { ChildProcess } from 'node:child_process';
import { importOptional } from '../platform/import-optional';
import { BackendError, ConfigError, InputError } from '../errors';

/** Environment variable naming the ffmpeg binary to use (below the `ffmpegPath` option, above `ffmpeg` on PATH). */
export const FFMPEG_ENV = 'SHARPEN_KD_FFMPEG';

/** Where the ffmpeg in use was found. */
export type FfmpegSource = 'option' | 'env' | 'path' | 'package';

/** A located, runnable ffmpeg. */
export interface Ffmpeg {
  /** Path (or command name, for PATH) to run. */
  path: string;
  source: FfmpegSource;
  /** First line of `ffmpeg -version`. */
  version: string;
}

/** The message of a missing ffmpeg: both ways to get one, and how to point at one. */
export function missingFfmpegMessage(detail: string): string {
  return (
    `${detail}. Video needs ffmpeg: install it so that \`ffmpeg\` is on PATH (Debian/Ubuntu: \`apt-get install ffmpeg\`, ` +
    `macOS: \`brew install ffmpeg\`), or \`npm install @ffmpeg-installer/ffmpeg\` (a static build shipped through npm); ` +
    `or point at a binary with the ffmpegPath option, --ffmpeg <path> or ${FFMPEG_ENV}`
  );
}

/** Runs `bin -version`: its first line, or undefined when it cannot be run at all. */
async function versionOf(bin: string, env?: Record<string, string | undefined>): Promise<string | undefined> {
  try {
    const r = await runFfmpeg(bin, ['-hide_banner', '-version'], { timeoutMs: 20_000, env });
    return r.code === 0 ? (r.stdout.split('\n')[0] ?? '').replace(/\s+Copyright.*$/, '').trim() || 'ffmpeg' : undefined;
  } catch {
    return undefined;
  }
}

/** The binary of `@ffmpeg-installer/ffmpeg` when that optional package (and its platform package) is installed. */
async function packagedFfmpeg(): Promise<string | undefined> {
  try {
    const mod = await importOptional<{ path?: string; default?: { path?: string } }>('@ffmpeg-installer/ffmpeg');
    return mod.path ?? mod.default?.path;
  } catch {
    return undefined;
  }
}

/**
 * Finds a runnable ffmpeg: the `ffmpegPath` option, else `$SHARPEN_KD_FFMPEG`, else `ffmpeg` on PATH, else the
 * binary of the optional package `@ffmpeg-installer/ffmpeg`. An explicit path that cannot be run is an error
 * (not a fallback), so that a typo does not silently pick another ffmpeg. `env` (default `process.env`) supplies
 * the variable and the PATH searched; `usePackage: false` skips the npm package.
 *
 * @throws BackendError (`E_BACKEND`) when none is found, naming both ways to install one.
 */
export async function findFfmpeg(opts: { ffmpegPath?: string; env?: Record<string, string | undefined>; usePackage?: boolean } = {}): Promise<Ffmpeg> {
  const env = opts.env ?? process.env;
  const explicit: Array<[string | undefined, FfmpegSource, string]> = [
    [opts.ffmpegPath, 'option', 'ffmpegPath'],
    [env[FFMPEG_ENV], 'env', FFMPEG_ENV],
  ];
  for (const [bin, source, what] of explicit) {
    if (!bin) continue;
    const version = await versionOf(bin, env);
    if (!version) throw new BackendError(missingFfmpegMessage(`ffmpeg "${bin}" (from ${what}) cannot be run`));
    return { path: bin, source, version };
  }
  const onPath = await versionOf('ffmpeg', env);
  if (onPath) return { path: 'ffmpeg', source: 'path', version: onPath };
  if (opts.usePackage !== false) {
    const bin = await packagedFfmpeg();
    const version = bin ? await versionOf(bin) : undefined;
    if (bin && version) return { path: bin, source: 'package', version };
  }
  throw new BackendError(missingFfmpegMessage('ffmpeg was not found (not on PATH, and @ffmpeg-installer/ffmpeg is not installed)'));
}

/** What a short ffmpeg run printed. */
export interface FfmpegRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs ffmpeg to completion and collects its output (for `-i`, `-h`, `-version`: small outputs).
 *
 * @throws the spawn error (ENOENT, EACCES) when the binary cannot be started.
 */
export async function runFfmpeg(
  bin: string,
  args: string[],
  opts: { timeoutMs?: number; signal?: AbortSignal; env?: Record<string, string | undefined> } = {},
): Promise<FfmpegRun> {
  const { spawn } = await import('node:child_process');
  return new Promise<FfmpegRun>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, env: opts.env });
    // Our own timer, not spawn's `timeout` option: Node keeps that one running when the binary cannot be started
    // (ENOENT), which held the process open for the whole timeout after a search of PATH that found no ffmpeg.
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
    timer?.unref();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * What the video stream of an input holds, from `ffmpeg -i`.
 *
 * @example
 * ```ts
 * const r = await sharpenVideo('in.mp4', 'out.mp4');
 * const info: VideoInfo = r.input; // { width: 320, height: 180, fps: 25, frames: 250, hasAudio: true, ... }
 * ```
 */
export interface VideoInfo {
  /** Size of the decoded (upright, after rotation metadata is applied) frames. */
  width: number;
  height: number;
  /** Frame rate as ffmpeg takes it (`"25"`, `"30000/1001"`): the decoder and the encoder both use it. */
  rate: string;
  /** The same as a number. */
  fps: number;
  /** Duration in seconds, when the container says. */
  duration?: number;
  /** Frames to expect (duration × fps, rounded), when the duration is known: an estimate, for progress and ETA. */
  frames?: number;
  /** Codec of the video stream (`h264`, `vp9`, ...). */
  codec: string;
  /** Codec of the first audio stream, when there is one (it is copied as is). */
  audioCodec?: string;
  /** Rotation metadata in degrees (ffmpeg applies it while decoding; the output is upright and untagged). */
  rotation: number;
  /** Colour matrix of the source when tagged (`bt709`, `smpte170m`, `bt470bg`, `bt2020nc`, ...). */
  colorSpace?: string;
  /** Display aspect ratio (`"16:9"`) when the pixels are not square, so that the output keeps it. */
  displayAspect?: string;
  /** ffmpeg's stream specifier of the video stream (`"0:0"`). */
  stream: string;
}

/** `29.97` -> `30000/1001`, `12.5` -> `25/2`, `25` -> `25`: a rate ffmpeg prints (2 decimals) as a rational. */
export function rateFromDecimal(text: string): string | undefined {
  const m = /^(\d+(?:\.\d+)?)(k?)$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]) * (m[2] ? 1000 : 1);
  if (!(v > 0)) return undefined;
  if (Number.isInteger(v)) return String(v);
  const ntsc = Math.round(v * 1.001);
  if (Math.abs((ntsc * 1000) / 1001 - v) < 0.006) return `${ntsc * 1000}/1001`;
  const hundredths = Math.round(v * 100);
  const g = gcd(hundredths, 100);
  return `${hundredths / g}/${100 / g}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Numeric value of a rate string (`"30000/1001"` -> 29.97...). */
export function rateValue(rate: string): number {
  const [n, d = '1'] = rate.split('/');
  return Number(n) / Number(d);
}

function parseDuration(text: string): number | undefined {
  const m = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(text);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/**
 * Parses the report `ffmpeg -i <file>` prints on stderr (ffmpeg 4 to 7) for the first video stream that is not an
 * attached picture. Undefined when the report has no such stream.
 */
export function parseStreamInfo(report: string): VideoInfo | undefined {
  const lines = report.split('\n');
  const idx = lines.findIndex((l) => /^\s*Stream #\d+:\d+.*: Video: /.test(l) && !/\(attached pic\)/.test(l));
  if (idx < 0) return undefined;
  const line = lines[idx];
  const stream = /Stream #(\d+:\d+)/.exec(line)![1];
  const codec = /Video: ([^\s,]+)/.exec(line)![1];
  const size = /, (\d{1,5})x(\d{1,5})(?=[\s,]|$)/.exec(line);
  if (!size) return undefined;
  let width = Number(size[1]);
  let height = Number(size[2]);
  const fpsText = /, ([\d.]+k?) fps/.exec(line)?.[1];
  const tbrText = /, ([\d.]+k?) tbr/.exec(line)?.[1];
  const rate = (fpsText && rateFromDecimal(fpsText)) || (tbrText && rateFromDecimal(tbrText)) || '25';
  // The stream's own metadata and side data follow its line, indented deeper, until the next stream.
  let rotation = 0;
  for (let j = idx + 1; j < lines.length && !/^\s*Stream #/.test(lines[j]); j++) {
    const tag = /^\s+rotate\s*:\s*(-?\d+(?:\.\d+)?)/.exec(lines[j]);
    const matrix = /displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(lines[j]);
    if (tag) rotation = Number(tag[1]);
    else if (matrix) rotation = -Number(matrix[1]);
  }
  rotation = ((Math.round(rotation) % 360) + 360) % 360;
  if (rotation === 90 || rotation === 270) [width, height] = [height, width];
  // `yuv420p(tv, bt709, progressive)`: the colour space is the token that names a matrix.
  const props = /Video: [^,]+, \w+\(([^)]*)\)/.exec(line)?.[1] ?? '';
  const colorSpace = props
    .split(/[,/]\s*/)
    .map((s) => s.trim())
    .find((s) => /^(bt709|smpte170m|bt470bg|bt2020nc|bt2020c|smpte240m|fcc|bt601)$/.test(s));
  const sar = /\[SAR (\d+):(\d+) DAR (\d+):(\d+)\]/.exec(line);
  const displayAspect = sar && sar[1] !== sar[2] && sar[1] !== '0' ? (rotation % 180 ? `${sar[4]}:${sar[3]}` : `${sar[3]}:${sar[4]}`) : undefined;
  const audio = lines.find((l) => /^\s*Stream #\d+:\d+.*: Audio: /.test(l));
  const duration = parseDuration(report);
  const fps = rateValue(rate);
  return {
    width,
    height,
    rate,
    fps,
    duration,
    frames: duration !== undefined && duration > 0 ? Math.max(1, Math.round(duration * fps)) : undefined,
    codec,
    audioCodec: audio ? /Audio: ([^\s,]+)/.exec(audio)?.[1] : undefined,
    rotation,
    colorSpace,
    displayAspect,
    stream,
  };
}

/** The line of an ffmpeg report that says what went wrong (the last non-empty one that is not boilerplate). */
export function ffmpegReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^At least one output file must be specified/.test(l) && !/^Conversion failed!?$/.test(l) && !/^Exiting normally/.test(l));
  return lines.slice(-3).join(' | ') || 'no message';
}

/**
 * Reads the stream info of a video file with `ffmpeg -i`.
 *
 * @throws InputError naming the file when it is missing, unreadable, not a video, or has no video stream.
 */
export async function probeVideo(ffmpeg: Ffmpeg, file: string, signal?: AbortSignal): Promise<VideoInfo> {
  const fs = await import('node:fs/promises');
  const st = await fs.stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read file (${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)})`, { file, cause: e });
  });
  if (!st.isFile()) throw new InputError('not a file', { file });
  if (st.size === 0) throw new InputError('the file is empty', { file });
  const r = await runFfmpeg(ffmpeg.path, ['-hide_banner', '-nostdin', '-i', file], { timeoutMs: 60_000, signal });
  if (!/^Input #0/m.test(r.stderr)) throw new InputError(`ffmpeg cannot read it as a video: ${ffmpegReason(r.stderr)}`, { file });
  const info = parseStreamInfo(r.stderr);
  if (!info) throw new InputError('has no video stream', { file });
  return info;
}

/** What an encoder accepts, from `ffmpeg -h encoder=<name>`. */
export interface EncoderInfo {
  /** The encoder's own name (`-h encoder=h264` reports the default H.264 encoder, e.g. libx264). */
  name: string;
  /** Pixel formats it encodes; empty when ffmpeg does not list them. */
  pixelFormats: string[];
  /** Its private options (`crf`, `preset`, `deadline`, ...), without the dash. */
  options: Set<string>;
  /** Largest CRF its `-crf` option takes, when it has one and says. */
  crfMax?: number;
}

/**
 * Asks ffmpeg about a video encoder.
 *
 * @throws ConfigError when ffmpeg has no encoder of that name, or it is not a video encoder.
 */
export async function encoderInfo(ffmpeg: Ffmpeg, codec: string): Promise<EncoderInfo> {
  if (!/^[A-Za-z0-9_.-]+$/.test(codec)) throw new ConfigError(`codec "${codec}" is not an encoder name (e.g. libx264, libx265, libvpx-vp9)`);
  const r = await runFfmpeg(ffmpeg.path, ['-hide_banner', '-h', `encoder=${codec}`], { timeoutMs: 20_000 });
  const head = /^Encoder (\S+) \[/m.exec(r.stdout);
  if (!head) {
    throw new ConfigError(`this ffmpeg (${ffmpeg.version}) has no encoder "${codec}": list them with \`${ffmpeg.path} -encoders\` (e.g. libx264, libx265, libvpx-vp9)`);
  }
  const formats = /Supported pixel formats: (.*)/.exec(r.stdout);
  if (!formats && /Supported sample formats/.test(r.stdout)) throw new ConfigError(`"${codec}" is an audio encoder: pick a video codec (e.g. libx264)`);
  const options = new Set([...r.stdout.matchAll(/^\s+-([\w-]+)\s+</gm)].map((m) => m[1]));
  const crfLine = /^\s+-crf\s+<\w+>.*\(from (-?[\d.]+) to (-?[\w.]+)\)/m.exec(r.stdout);
  const crfMax = crfLine && /^\d+(\.\d+)?$/.test(crfLine[2]) ? Number(crfLine[2]) : undefined;
  return { name: head[1], pixelFormats: formats ? formats[1].trim().split(/\s+/) : [], options, crfMax };
}

/** Kills a child process (if still running) and resolves once it has exited. */
export function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  });
}
