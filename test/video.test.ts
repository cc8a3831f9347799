/**
 * Video (`sharpenVideo`, `sharpen-kd video`): tiny clips generated here with ffmpeg's testsrc and a sine tone,
 * checked with ffmpeg itself (frames decoded, streams listed). Every test runs with the ffmpeg `findFfmpeg` picks
 * (PATH, else the @ffmpeg-installer/ffmpeg devDependency, which `npm ci` installs); one test runs each available
 * ffmpeg. Skipped only when there is no ffmpeg at all.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, BackendError, ConfigError, InputError } from '../src/errors';
import { Student } from '../src/infer/student';
import { writeRows } from '../src/infer/pixels';
import { findFfmpeg, parseStreamInfo, rateFromDecimal, runFfmpeg, type Ffmpeg } from '../src/video/ffmpeg';
import { sharpenVideo } from '../src/video/sharpen-video';

const ROOT = path.resolve(import.meta.dirname, '..');
const W = 48;
const H = 32;
const FRAMES = 10;

const primary: Ffmpeg | undefined = await findFfmpeg().catch(() => undefined);
/** Every ffmpeg this machine has: the one on PATH and the npm package's (CI has at least the latter). */
const all: Ffmpeg[] = [];
{
  const { SHARPEN_KD_FFMPEG: _, ...env } = process.env;
  for (const o of [{ env, usePackage: false }, { env: { ...env, PATH: '' } }]) {
    const f = await findFfmpeg(o).catch(() => undefined);
    if (f) all.push(f);
  }
}

let tmp: string;
let clip: string;

/** Runs ffmpeg and throws with its message on failure. */
async function ff(args: string[], bin = primary!.path): Promise<string> {
  const r = await runFfmpeg(bin, ['-hide_banner', '-nostdin', '-y', ...args]);
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

/** A testsrc clip with a sine audio track. */
async function makeClip(file: string, o: { w?: number; h?: number; frames?: number; rate?: number; audio?: boolean; extra?: string[] } = {}): Promise<string> {
  const rate = o.rate ?? 10;
  const seconds = (o.frames ?? FRAMES) / rate;
  const args = ['-f', 'lavfi', '-i', `testsrc=size=${o.w ?? W}x${o.h ?? H}:rate=${rate}:duration=${seconds}`];
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-c:a', 'aac');
  args.push('-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...(o.extra ?? []), '-frames:v', String(o.frames ?? FRAMES), file);
  await ff(args);
  return file;
}

/** Decodes every frame of a video's first video stream: count, size and the RGB bytes. */
async function decodeAll(file: string): Promise<{ frames: number; width: number; height: number; data: Buffer }> {
  const report = (await runFfmpeg(primary!.path, ['-hide_banner', '-i', file])).stderr;
  const info = parseStreamInfo(report);
  if (!info) throw new Error(`no video stream in ${file}: ${report}`);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const p = spawn(primary!.path, ['-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.once('error', reject);
    p.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`decoding ${file} failed (${code})`))));
  });
  const data = Buffer.concat(chunks);
  return { frames: data.length / (info.width * info.height * 3), width: info.width, height: info.height, data };
}

/** Audio codecs of a file, from ffmpeg's report. */
async function audioStreams(file: string): Promise<string[]> {
  const report = (await runFfmpeg(primary!.path, ['-hide_banner', '-i', file])).stderr;
  return [...report.matchAll(/Stream #\d+:\d+.*: Audio: (\w+)/g)].map((m) => m[1]);
}

/** Files in the clip folder whose name marks a temporary output. */
async function leftovers(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.includes('.tmp'));
}

function psnr(a: Buffer, b: Buffer): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

describe('ffmpeg stream info (parser)', () => {
  it('reads size, rate, duration, audio, rotation, colour space and aspect from ffmpeg 4 and 5+ reports', () => {
    const v5 = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':",
      '  Duration: 00:01:02.50, start: 0.000000, bitrate: 97 kb/s',
      '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 1:1 DAR 16:9], 14 kb/s, 29.97 fps, 29.97 tbr, 30k tbn (default)',
      '    Metadata:',
      '      handler_name    : VideoHandler',
      '    Side data:',
      '      displaymatrix: rotation of -90.00 degrees',
      '  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)',
    ].join('\n');
    const a = parseStreamInfo(v5)!;
    expect(a).toMatchObject({ width: 1080, height: 1920, rate: '30000/1001', duration: 62.5, codec: 'h264', audioCodec: 'aac', rotation: 90, colorSpace: 'bt709', stream: '0:0' });
    expect(a.frames).toBe(Math.round(62.5 * 30000 / 1001));
    expect(a.displayAspect).toBeUndefined();

    const v4 = [
      "Input #0, matroska,webm, from 'in.mkv':",
      '  Duration: N/A, start: 0.000000, bitrate: N/A',
      '    Stream #0:0: Video: mjpeg, yuvj422p(pc, bt470bg/unknown/unknown), 720x576 [SAR 16:15 DAR 4:3], 25 fps, 25 tbr, 1k tbn, 1k tbc (default)',
      '    Metadata:',
      '      rotate          : 180',
    ].join('\n');
    const b = parseStreamInfo(v4)!;
    expect(b).toMatchObject({ width: 720, height: 576, rate: '25', rotation: 180, colorSpace: 'bt470bg', displayAspect: '4:3', audioCodec: undefined });
    expect(b.frames).toBeUndefined();

    // Cover art is an attached picture, not the video; an audio file has no video stream.
    const art = [
      '  Duration: 00:00:10.00, start: 0.000000, bitrate: 128 kb/s',
      '  Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 128 kb/s',
      '  Stream #0:1: Video: png, rgba(pc), 300x300, 90k tbr, 90k tbn (attached pic)',
    ].join('\n');
    expect(parseStreamInfo(art)).toBeUndefined();
    expect(rateFromDecimal('23.98')).toBe('24000/1001');
    expect(rateFromDecimal('12.50')).toBe('25/2');
    expect(rateFromDecimal('1k')).toBe('1000');
  });
});

describe('writeRows fast path (RGB into 8 / 16-bit)', () => {
  it('gives exactly what Math.round, clamped, gives', () => {
    const n = 4096 * 3;
    const rows = new Float32Array(n);
    for (let i = 0; i < n; i++) rows[i] = i < 12 ? [0, 1, -0.2, 1.3, NaN, 0.5 / 255, 1.5 / 255, 254.5 / 255, -0, 1e-9, 0.9999999, 65534.5 / 65535][i] : Math.random() * 1.2 - 0.1;
    for (const max of [255, 65535]) {
      const dst = { data: max === 255 ? new Uint8Array(n) : new Uint16Array(n), width: 4096, height: 1, channels: 3 as const };
      writeRows(dst, 'color', rows, 0, 1);
      for (let i = 0; i < n; i++) {
        const q = Math.round(rows[i] * max);
        expect(dst.data[i], `rows[${i}] = ${rows[i]}`).toBe(Number.isNaN(q) ? 0 : Math.min(max, Math.max(0, q)));
      }
    }
  });
});

describe('finding ffmpeg', () => {
  it('a path that cannot be run, or none at all, is a BackendError naming both ways to get ffmpeg', async () => {
    const bad = await findFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BackendError);
    expect((bad as BackendError).code).toBe('E_BACKEND');
    expect((bad as Error).message).toMatch(/\/nonexistent\/ffmpeg/);
    const none = await findFfmpeg({ env: { PATH: '/nonexistent' }, usePackage: false }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(BackendError);
    for (const e of [bad, none]) {
      expect((e as Error).message).toContain('apt-get install ffmpeg');
      expect((e as Error).message).toContain('npm install @ffmpeg-installer/ffmpeg');
    }
    const viaEnv = await findFfmpeg({ env: { PATH: process.env.PATH, SHARPEN_KD_FFMPEG: '/nonexistent/ffmpeg' } }).catch((e: unknown) => e);
    expect(viaEnv).toBeInstanceOf(BackendError);
    expect((viaEnv as Error).message).toContain('SHARPEN_KD_FFMPEG');
  });

  it('a search that does not find ffmpeg leaves no timer behind (the process could not exit until it fired)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await findFfmpeg({ env: { PATH: '/nonexistent' }, usePackage: false }).catch(() => undefined);
    await findFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' }).catch(() => undefined);
    expect(timers()).toBe(before);
  });

  it('sharpenVideo with a missing ffmpeg fails with the same BackendError before writing anything', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-video-noff-'));
    try {
      const err = await sharpenVideo(path.join(dir, 'in.mp4'), path.join(dir, 'out.mp4'), { ffmpegPath: path.join(dir, 'ffmpeg') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(await fs.readdir(dir)).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!primary)('sharpenVideo with ffmpeg', () => {
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-video-'));
    clip = await makeClip(path.join(tmp, 'clip.mp4'));
  });
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('x2: every frame, twice the size, the frame rate kept, the audio stream copied', async () => {
    const out = path.join(tmp, 'x2.mp4');
    const reports: number[] = [];
    const r = await sharpenVideo(clip, out, { scale: 2, onProgress: (p) => reports.push(p.done) });
    expect(r).toMatchObject({ frames: FRAMES, width: W * 2, height: H * 2, audio: true, codec: 'libx264', model: 'x2', temporal: { strength: 0.5 } });
    expect(r.input).toMatchObject({ width: W, height: H, rate: '10', audioCodec: 'aac' });
    expect(reports).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
    const d = await decodeAll(out);
    expect(d).toMatchObject({ frames: FRAMES, width: W * 2, height: H * 2 });
    expect(await audioStreams(out)).toEqual(['aac']);
    const report = (await runFfmpeg(primary!.path, ['-hide_banner', '-i', out])).stderr;
    expect(parseStreamInfo(report)?.rate).toBe('10');
    expect(await leftovers(tmp)).toEqual([]);
  });

  it('the I420 frames the ONNX graph writes make the same video as those converted in JS', async () => {
    // By name, sharpenVideo loads the model with I420 outputs; a Student given to it has none, so its frames are
    // converted from float RGB here. x264 is deterministic: equal frames in, equal frames out.
    const viaGraph = path.join(tmp, 'graph.mp4');
    const viaJs = path.join(tmp, 'js.mp4');
    await sharpenVideo(clip, viaGraph, { scale: 2, threads: 1 });
    const student = await Student.load('x2', { threads: 1, offThread: true });
    try {
      await sharpenVideo(clip, viaJs, { model: student, threads: 1 });
    } finally {
      student.dispose();
    }
    const [a, b] = [await decodeAll(viaGraph), await decodeAll(viaJs)];
    expect(a.frames).toBe(FRAMES);
    const p = psnr(a.data, b.data);
    console.log(`I420 from the graph vs from JS: PSNR ${p === Infinity ? 'inf' : p.toFixed(1)} dB`);
    expect(p).toBeGreaterThan(50);
  });

  it('x1 with bicubic (identity): the same size and the same pictures, up to the codec', async () => {
    const out = path.join(tmp, 'x1.mkv');
    const r = await sharpenVideo(clip, out, { model: 'bicubic', scale: 1, crf: 10 });
    expect(r).toMatchObject({ frames: FRAMES, width: W, height: H });
    const a = await decodeAll(clip);
    const b = await decodeAll(out);
    expect([b.frames, b.width, b.height]).toEqual([FRAMES, W, H]);
    // Colours survive the RGB round trip (same matrix both ways): a shift would cost far more than this.
    const p = psnr(a.data, b.data);
    console.log(`x1 bicubic round trip: PSNR ${p.toFixed(1)} dB`);
    expect(p).toBeGreaterThan(30);
  });

  it('x4 through the CLI (the x1 model at x1 too), with --overwrite semantics', async () => {
    const out = path.join(tmp, 'cli-x4.mp4');
    const cli = (args: string[]) => runCli(['video', clip, '-o', out, ...args]);
    const first = await cli(['--scale', '4']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/10 frames 48x32 -> 192x128 at 10 fps with x4 .*, temporal filter 0\.5:/);
    expect(await decodeAll(out)).toMatchObject({ frames: FRAMES, width: W * 4, height: H * 4 });
    const before = await fs.stat(out);
    const again = await cli(['--scale', '1']);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toMatch(/exists \(use overwrite \/ --overwrite/);
    expect((await fs.stat(out)).mtimeMs).toBe(before.mtimeMs);
    const bad = await cli(['--scale', '1', '--overwrite', '--temporal', '1.5']);
    expect(bad.code).toBe(1); // an argument error (commander's exit code)
    expect(bad.stderr).toMatch(/--temporal must be a number from 0 to 0\.95, got "1\.5"/);
    const replaced = await cli(['--scale', '1', '--overwrite', '--no-audio', '--temporal', '0']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stderr).not.toMatch(/temporal filter/);
    expect(await decodeAll(out)).toMatchObject({ frames: FRAMES, width: W, height: H });
    expect(await audioStreams(out)).toEqual([]);
  });

  it('an abort (AbortSignal) stops the run: AbortError, no output file, no temporary file, no ffmpeg left', async () => {
    const long = await makeClip(path.join(tmp, 'long.mp4'), { frames: 300, w: 96, h: 64 });
    const out = path.join(tmp, 'aborted.mp4');
    const ac = new AbortController();
    const err = await sharpenVideo(long, out, { scale: 2, signal: ac.signal, onProgress: (p) => p.done === 3 && ac.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(existsSync(out)).toBe(false);
    expect(await leftovers(tmp)).toEqual([]);
    expect(await processesMentioning(tmp)).toEqual([]);
  });

  it.each([1, 2])('Ctrl-C (%i times) in the CLI: exit code 130, an existing output untouched, no temporary file, no ffmpeg left', async (presses) => {
    const long = path.join(tmp, 'long.mp4');
    if (!existsSync(long)) await makeClip(long, { frames: 300, w: 96, h: 64 });
    const out = path.join(tmp, 'kept.mp4');
    await fs.writeFile(out, 'previous output');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'video', long, '-o', out, '--scale', '2', '--overwrite'], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stderr = '';
    let sent = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (sent === 0 && /video .* \d+\/\d+/.test(stderr)) {
        // Like a terminal's Ctrl-C, pressed once or twice in a row.
        for (; sent < presses; sent++) child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(sent).toBe(presses);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('SIGINT received');
    expect(await fs.readFile(out, 'utf8')).toBe('previous output');
    expect(await leftovers(tmp)).toEqual([]);
    expect(await processesMentioning(tmp)).toEqual([]);
  });

  it('bad inputs and options are typed errors, before any output', async () => {
    const notes = path.join(tmp, 'notes.mp4');
    await fs.writeFile(notes, 'not a video at all\n');
    const cases: Array<[string, string, Parameters<typeof sharpenVideo>[2], new (...a: never[]) => Error, RegExp]> = [
      [notes, 'o1.mp4', {}, InputError, /notes\.mp4: ffmpeg cannot read it as a video/],
      [path.join(tmp, 'missing.mp4'), 'o2.mp4', {}, InputError, /missing\.mp4: cannot read file \(no such file\)/],
      [clip, 'o3.gif', {}, ConfigError, /use a file ending in \.mp4/],
      [clip, 'o4.mp4', { codec: 'nope' }, ConfigError, /has no encoder "nope"/],
      [clip, 'o5.mp4', { crf: 80 }, ConfigError, /crf must be a number from 0 to 51/],
      [clip, 'o6.mp4', { pixelFormat: 'rgb24' }, ConfigError, /libx264 cannot encode pixel format rgb24/],
      [clip, 'o7.webm', {}, ConfigError, /aac audio cannot be copied into a \.webm/],
      [clip, 'o8.mp4', { scale: 3 }, ConfigError, /no shipped model for scale 3/],
      [clip, 'o9.mp4', { preset: 'nonsense' }, ConfigError, /invalid preset/],
      [clip, 'o10.mp4', { temporal: 1 }, ConfigError, /temporal filter's strength .* from 0 to 0\.95, got 1/],
      [clip, 'o11.mp4', { temporalNoise: -2 }, ConfigError, /temporal filter's noise level/],
      [clip, 'clip.mp4', {}, ConfigError, /is the input/],
    ];
    for (const [input, out, opts, type, message] of cases) {
      const err = await sharpenVideo(input, path.join(tmp, out), { scale: 2, ...opts }).catch((e: unknown) => e);
      expect(err, `${out}: ${String(err)}`).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
      if (out !== 'clip.mp4') expect(existsSync(path.join(tmp, out))).toBe(false);
    }
    expect(await leftovers(tmp)).toEqual([]);
  });

  it('WebM (VP9) without audio, a rotated input (upright output), an odd size refused for yuv420p', async () => {
    const webm = path.join(tmp, 'out.webm');
    const r = await sharpenVideo(clip, webm, { scale: 2, audio: false });
    expect(r).toMatchObject({ codec: 'libvpx-vp9', audio: false });
    expect(await decodeAll(webm)).toMatchObject({ frames: FRAMES, width: W * 2, height: H * 2 });

    const rotated = path.join(tmp, 'rotated.mp4');
    await ff(['-i', clip, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
    const rr = await sharpenVideo(rotated, path.join(tmp, 'rotated-x2.mp4'), { scale: 2 });
    expect(rr.input.rotation % 180).toBe(90);
    expect([rr.width, rr.height]).toEqual([H * 2, W * 2]);
    expect(await decodeAll(path.join(tmp, 'rotated-x2.mp4'))).toMatchObject({ frames: FRAMES, width: H * 2, height: W * 2 });

    const odd = await makeClip(path.join(tmp, 'odd.mkv'), { w: 47, h: 33, audio: false, extra: ['-pix_fmt', 'yuv444p'] });
    const err = await sharpenVideo(odd, path.join(tmp, 'odd-x1.mp4'), { scale: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/47x33, but yuv420p needs an even width: use pixelFormat yuv444p/);
    const ok = await sharpenVideo(odd, path.join(tmp, 'odd-x1.mkv'), { scale: 1, pixelFormat: 'yuv444p' });
    expect(await decodeAll(ok.output)).toMatchObject({ frames: FRAMES, width: 47, height: 33 });
  });

  it('on a TF.js backend: no tensor is left over; large frames are tiled', async () => {
    const student = await Student.load('x2', { backend: 'wasm' });
    try {
      const before = tf.memory().numTensors;
      const r = await sharpenVideo(clip, path.join(tmp, 'wasm.mp4'), { model: student, tile: 40 });
      expect(r).toMatchObject({ frames: FRAMES, backend: 'wasm', width: W * 2 });
      expect(tf.memory().numTensors).toBe(before);
      // The tiled frames are the untiled ones (tiles blend exactly; the codec adds the same loss to both).
      const whole = await sharpenVideo(clip, path.join(tmp, 'wasm-whole.mp4'), { model: student });
      expect(tf.memory().numTensors).toBe(before);
      const a = await decodeAll(r.output);
      const b = await decodeAll(whole.output);
      expect(psnr(a.data, b.data)).toBeGreaterThan(40);
    } finally {
      student.dispose();
    }
  });

  it.each(all.map((f) => [f.source, f] as const))('works with the ffmpeg from %s', async (_source, f) => {
    const out = path.join(tmp, `with-${f.source}.mp4`);
    const r = await sharpenVideo(clip, out, { scale: 2, ffmpegPath: f.path });
    expect(r.ffmpeg).toBe(f.path);
    expect(await decodeAll(out)).toMatchObject({ frames: FRAMES, width: W * 2, height: H * 2 });
    expect(await audioStreams(out)).toEqual(['aac']);
  });
});

/** Runs the CLI from source with tsx. */
async function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stderr };
}

/** Processes (other than this one) whose command line mentions `text`: ffmpeg left running would. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(text)) found.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return found;
}
