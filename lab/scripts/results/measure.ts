/**
 * Measures one catalog entry: quality on each benchmark set through the eval code path (`evaluateStudent`,
 * `evaluateX1Baseline` for the classical ×1 baselines, or `evaluateUpscaler` for sharp's resampler, i.e. exactly what
 * `sharpen-kd eval` computes) and the frame rate at 1280×720 output (`benchmarkFps` on the engine `Student.load`
 * picks: ONNX Runtime when installed, else wasm; the baselines' own code for them).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
// Direct module imports (not src/index): only the inference path is loaded, no training code.
import { benchmarkFps, type FpsResult } from '../../../src/bench/fps';
import { evaluateStudent, evaluateUpscaler, type EvaluationReport } from '../../../src/infer/evaluate';
import { evaluateX1Baseline, x1Baseline } from '../../../src/classical/x1-baselines';
import { Student } from '../../../src/infer/student';
import type { RawImage } from '../../../src/io/raw-image';
import { loadPretrainedTeacher } from '../../../src/models/pretrained-teachers';
import type { Entry } from './catalog';
import { cpuMark, load1, otherCores, othersNote, type CpuMark } from './machine';

export interface Quality {
  psnr: number;
  ssim: number;
  n: number;
  images: EvaluationReport['images'];
  seconds: number;
}

export interface Speed {
  fps: number;
  msMedian: number;
  msP95: number;
  width: number;
  height: number;
  warmup: number;
  runs: number;
  /** 1-min load average when the timing ended (this measurement's own threads included). */
  load1: number;
  /** Cores' worth of CPU other processes used while the frames were timed (Linux; undefined elsewhere). */
  others?: number;
}

export interface Measured {
  /** Engine the numbers come from (`onnx`, `wasm`, `sharp (libvips)`). */
  backend: string;
  params: number | null;
  gflops: number | null;
  quality: Record<string, Quality>;
  fps?: Speed;
  /** Set when measuring failed; the entry is still listed. */
  error?: string;
}

export interface MeasureOptions {
  dataDir: string;
  sets: string[];
  /** Output frame for fps (1280×720). */
  width: number;
  height: number;
  /** Frames per fps measurement for fast models; slow ones get fewer (see {@link timeStudent}). */
  warmup: number;
  runs: number;
  /** Time budget for one fps measurement, ms. */
  budgetMs: number;
  log: (line: string) => void;
}

/** A deterministic pseudo-random 8-bit RGB frame (same recipe as benchmarkFps). */
function frame(w: number, h: number): Uint8Array {
  return new Uint8Array(w * h * 3).map((_, i) => (i * 2654435761) >>> 24);
}

function lanczosUpscaler(scale: number) {
  return async (lr: RawImage): Promise<RawImage> => {
    const img = sharp(lr.data, { raw: { width: lr.width, height: lr.height, channels: lr.channels as 3 } });
    const out = img.resize(lr.width * scale, lr.height * scale, { kernel: 'lanczos3', fit: 'fill' });
    const { data, info } = await out.raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as 3, bits: 8 };
  };
}

async function timeFrames(fn: () => Promise<unknown>, warmup: number, runs: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

function speedFrom(ms: number[], o: MeasureOptions, warmup: number, mark: CpuMark | undefined): Speed {
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.max(0, Math.ceil((p / 100) * ms.length) - 1))];
  return { fps: 1000 / at(50), msMedian: at(50), msP95: at(95), width: o.width, height: o.height, warmup, runs: ms.length, load1: load1(), others: otherCores(mark) };
}

/**
 * Frame rate of a loaded Student. One untimed probe frame first; models slower than the budget allows get fewer
 * frames (at least 3) and no further warm-up (the probe was it).
 */
async function timeStudent(student: Student, o: MeasureOptions): Promise<{ speed: Speed; result: FpsResult }> {
  const probe = await benchmarkFps({ model: student, width: o.width, height: o.height, warmup: 0, runs: 1, reference: false });
  const t = probe.msMedian;
  const fast = t * (o.warmup + o.runs) <= o.budgetMs;
  const warmup = fast ? o.warmup : 0;
  const runs = fast ? o.runs : Math.max(3, Math.min(o.runs, Math.floor(o.budgetMs / t)));
  const mark = cpuMark();
  const result = await benchmarkFps({ model: student, width: o.width, height: o.height, warmup, runs, reference: false });
  const speed: Speed = { fps: result.fps, msMedian: result.msMedian, msP95: result.msP95, width: o.width, height: o.height, warmup, runs, load1: load1(), others: otherCores(mark) };
  return { speed, result };
}

async function openStudent(e: Entry): Promise<Student> {
  const src = e.source!;
  if (src.kind === 'bicubic') return Student.load('bicubic', { scale: e.scale });
  if (src.kind === 'saved') return Student.load(src.dir, { scale: e.scale });
  if (src.kind === 'pretrained') {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const teachers = process.env.SHARPEN_KD_TEACHERS ?? path.resolve(root, '../shared/teachers');
    return Student.fromModel(await loadPretrainedTeacher(src.name, { scale: e.scale, weights: teachers }), { name: src.name });
  }
  throw new Error(`internal: ${src.kind} is not a Student`);
}

async function qualityOf(run: (hrDir: string) => Promise<EvaluationReport>, e: Entry, o: MeasureOptions): Promise<Record<string, Quality>> {
  const out: Record<string, Quality> = {};
  for (const set of o.sets) {
    const t0 = performance.now();
    const r = await run(path.join(o.dataDir, set, 'HR'));
    out[set] = { psnr: r.psnr, ssim: r.ssim, n: r.n, images: r.images, seconds: (performance.now() - t0) / 1000 };
    o.log(`  ${e.id} x${e.scale} ${set}: ${r.psnr.toFixed(2)} dB / ${r.ssim.toFixed(4)} (${r.backend}, ${out[set].seconds.toFixed(1)} s)`);
  }
  return out;
}

/** Measures quality and speed of one entry (which must have a source). Errors are caught and recorded. */
export async function measure(e: Entry, o: MeasureOptions, withFps = true): Promise<Measured> {
  const src = e.source!;
  try {
    if (src.kind === 'x1-baseline') {
      const quality = await qualityOf((dir) => evaluateX1Baseline(src.name, dir, { protocol: e.protocol }), e, o);
      const m: Measured = { backend: src.name.startsWith('sharp') ? 'sharp (libvips)' : src.name === 'input' ? 'none' : 'js (FFT)', params: 0, gflops: null, quality };
      if (src.name === 'input') m.gflops = 0;
      else if (withFps && !e.qualityOnly) {
        // The oracle needs a kernel: time it with the blind method's kind (σ 1.5, no motion).
        const restore = x1Baseline(src.name);
        const lr: RawImage = { data: frame(o.width, o.height), width: o.width, height: o.height, channels: 3, bits: 8 };
        const info = { name: 'frame', degradation: { sigma: 1.5, motion: null, noise: 0, noiseSeed: 0, jpegQuality: 0 } };
        const t0 = performance.now();
        await restore(lr, undefined, info);
        const t = performance.now() - t0;
        const fast = t * (o.warmup + o.runs) <= o.budgetMs;
        const runs = fast ? o.runs : Math.max(3, Math.min(o.runs, Math.floor(o.budgetMs / t)));
        const mark = cpuMark();
        m.fps = speedFrom(await timeFrames(() => restore(lr, undefined, info), fast ? o.warmup : 0, runs), o, fast ? o.warmup : 0, mark);
        o.log(`  ${e.id} x${e.scale} fps: ${m.fps.fps.toFixed(2)} (${m.fps.msMedian.toFixed(1)} ms median of ${m.fps.runs}, ${m.backend}${othersNote(m.fps.others)})`);
      }
      return m;
    }
    if (src.kind === 'lanczos3') {
      const up = lanczosUpscaler(e.scale);
      const quality = await qualityOf((dir) => evaluateUpscaler(up, dir, { scale: e.scale, model: 'sharp lanczos3', backend: 'sharp' }), e, o);
      // Two separable passes of 6 taps (multiply + add) per output sample: an estimate, not libvips' exact count.
      const m: Measured = { backend: 'sharp (libvips)', params: 0, gflops: ((o.width * (o.height / e.scale) + o.width * o.height) * 3 * 12) / 1e9, quality };
      if (withFps) {
        const lr: RawImage = { data: frame(o.width / e.scale, o.height / e.scale), width: o.width / e.scale, height: o.height / e.scale, channels: 3, bits: 8 };
        const mark = cpuMark();
        m.fps = speedFrom(await timeFrames(() => up(lr), o.warmup, o.runs), o, o.warmup, mark);
        o.log(`  ${e.id} x${e.scale} fps: ${m.fps.fps.toFixed(1)} (${m.fps.msMedian.toFixed(1)} ms median of ${m.fps.runs}, sharp${othersNote(m.fps.others)})`);
      }
      return m;
    }
    const student = await openStudent(e);
    try {
      const quality = await qualityOf((dir) => evaluateStudent(student, dir, { scale: e.scale, protocol: e.protocol }), e, o);
      const m: Measured = { backend: student.info.backend, params: student.info.params, gflops: null, quality };
      if (withFps && !e.qualityOnly) {
        const { speed, result } = await timeStudent(student, o);
        m.fps = speed;
        m.gflops = result.gflops;
        m.params = result.params || student.info.params;
        o.log(`  ${e.id} x${e.scale} fps: ${speed.fps.toFixed(2)} (${speed.msMedian.toFixed(1)} ms median of ${speed.runs}, ${m.backend}${othersNote(speed.others)})`);
      }
      return m;
    } finally {
      student.dispose();
    }
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    o.log(`  ${e.id} x${e.scale}: FAILED: ${msg}`);
    return { backend: '?', params: null, gflops: null, quality: {}, error: msg };
  }
}
