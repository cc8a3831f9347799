/**
 * Temporal stability of per-frame super-resolution: does the student turn input noise into more flicker than
 * bicubic interpolation does, and does the temporal filter of `sharpenVideo` (src/video/temporal-filter.ts) fix it
 * without costing fidelity?
 *
 *   npx tsx scripts/video-flicker.ts [--scales 4,2,1] [--noise 2] [--strength 0.5] [--frames 24] [--images 14] [--backend auto] [--json]
 *
 * The clip. For each image of Set14 ($SHARPEN_KD_DATA/Set14/HR, default ../shared/data; a generated image when it is
 * missing), a window of (w·s)×(h·s) high-resolution pixels (w×h = 128×96 low-resolution pixels, s = the scale) pans
 * right by one high-resolution pixel per frame (1/s of a low-resolution pixel: sub-pixel motion) for the first half
 * of the frames and holds still for the second half: the windows are the clean high-resolution frames H_t. Each is
 * downscaled by s with MATLAB bicubic (rounded to 8 bits): the clean frames C_t. The input frames are
 * N_t = round(C_t + n_t), n_t Gaussian with standard deviation `--noise` 8-bit levels (default 2), independent for
 * every pixel, channel and frame, clamped to [0, 255]. The student (x4 / x2 / x1 as shipped) and bicubic (identity at
 * x1) upscale every N_t on its own, to 8 bits, as `sharpen-kd video` does, but without a video codec (whose own
 * temporal artefacts would blur the comparison). Each output is also passed through the temporal filter
 * (`TemporalFilter`, strength `--strength`, noise estimated from the frames) as `sharpenVideo` does ("filtered"), and
 * the student is also run on the filtered input frames (the filter applied before the model instead of after).
 *
 * Static pixels. An input pixel p is static at frame t (t ≥ 1) when the clean frames are identical,
 * C_t = C_{t-1} in all channels, at every pixel within r of p (a (2r+1)² square, r = the largest receptive-field
 * radius of the models compared, rounded up). An output pixel is static when the input pixel it lies in is. On
 * static pixels a model sees the same clean content at t and t-1, so any change of its output there is noise
 * turned into flicker (without noise it is exactly 0). The other pixels of the panning frames are moving pixels.
 *
 * Flicker. F(X) = mean over t = 1..T-1, over the static pixels of frame t and over R, G, B of |X_t − X_{t-1}|, in
 * 8-bit levels. The table gives F of the input N and each output's F relative to the input's, F(out) / F(N): how
 * much frame-to-frame noise the upscaler passes on (bicubic averages noise away, < 1; a sharpening model amplifies
 * it). "student / baseline" is the ratio of the student's relative flicker to bicubic's: above 1, the student
 * flickers more than bicubic on the same clip.
 *
 * Fidelity. Y-PSNR (BT.601 studio Y, `scale` border pixels cropped: the protocol's `psnr`) of every output frame
 * against the clean high-resolution frame H_t, averaged over frames; the same over the moving pixels of the panning
 * frames only (where a filter that lags would leave a ghost); and the mean |filtered − unfiltered| Y there.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../src/core/rng';
import { proceduralImage } from '../src/data/procedural';
import type { InferenceBackend } from '../src/infer/engine';
import type { RawImage } from '../src/io/raw-image';
import { Student } from '../src/infer/student';
import { readImage } from '../src/io/node-image';
import { imresizeFloat } from '../src/metrics/imresize';
import { psnr } from '../src/metrics/psnr';
import { Y_OFFSET, Y_WEIGHTS } from '../src/metrics/y-channel';
import { DEFAULT_TEMPORAL_STRENGTH, TemporalFilter } from '../src/video/temporal-filter';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const scales = flag('--scales', '4,2,1').split(',').map(Number);
const noiseLevels = flag('--noise', '2').split(',').map(Number);
const strengths = flag('--strength', String(DEFAULT_TEMPORAL_STRENGTH)).split(',').map(Number);
const T = Number(flag('--frames', '24'));
const maxImages = Number(flag('--images', '14'));
const backend = flag('--backend', 'auto') as InferenceBackend;
const json = args.includes('--json');
const LR_W = 128;
const LR_H = 96;
if (!scales.every((s) => [1, 2, 4].includes(s)) || !noiseLevels.every((n) => n >= 0) || !strengths.every((a) => a >= 0 && a <= 0.95) || !(T >= 4)) {
  console.error('usage: video-flicker.ts [--scales 4,2,1] [--noise 2] [--strength 0.5] [--frames 24 (>= 4)] [--images 14] [--backend auto] [--json]');
  process.exit(2);
}

/** The high-resolution stills: Set14, or one generated image. */
async function stills(): Promise<{ name: string; img: RawImage<Uint8Array> }[]> {
  const dir = path.resolve(root, process.env.SHARPEN_KD_DATA ?? '../shared/data', 'Set14/HR');
  if (!existsSync(dir)) {
    const p = proceduralImage(14, 700, 500);
    return [{ name: 'generated', img: p }];
  }
  const out: { name: string; img: RawImage<Uint8Array> }[] = [];
  for (const f of readdirSync(dir).filter((f) => /\.png$/i.test(f)).sort().slice(0, maxImages)) {
    const raw = await readImage(path.join(dir, f));
    const n = raw.width * raw.height;
    const rgb = new Uint8Array(n * 3);
    const src = raw.data as Uint8Array;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) rgb[3 * i + c] = raw.channels >= 3 ? src[i * raw.channels + c] : src[i * raw.channels];
    }
    out.push({ name: f, img: { data: rgb, width: raw.width, height: raw.height, channels: 3, bits: 8 } });
  }
  return out;
}

/**
 * The clean low-resolution frames of one still: pan by 1 HR px per frame for the first half, then hold. The window
 * shrinks (keeping the aspect) when the image is too small for it.
 */
function cleanFrames(img: RawImage<Uint8Array>, s: number): { lr: RawImage<Uint8Array>[]; hr: RawImage<Uint8Array>[] } {
  const pan = Math.ceil(T / 2);
  let w = LR_W;
  let h = LR_H;
  while (w * s + pan > img.width || h * s > img.height) {
    w -= 4;
    h -= 3;
  }
  const x0 = Math.floor((img.width - w * s - pan) / 2);
  const y0 = Math.floor((img.height - h * s) / 2);
  const frames: RawImage<Uint8Array>[] = [];
  const hr: RawImage<Uint8Array>[] = [];
  for (let t = 0; t < T; t++) {
    const crop = new Float64Array(w * s * h * s * 3);
    const dx = Math.min(t, pan);
    for (let y = 0; y < h * s; y++) {
      for (let x = 0; x < w * s; x++) {
        const si = ((y0 + y) * img.width + x0 + dx + x) * 3;
        const di = (y * w * s + x) * 3;
        crop[di] = img.data[si];
        crop[di + 1] = img.data[si + 1];
        crop[di + 2] = img.data[si + 2];
      }
    }
    const lr = s === 1 ? { data: crop } : imresizeFloat({ data: crop, width: w * s, height: h * s, channels: 3 }, 1 / s, { roundTo: 255 });
    hr.push({ data: Uint8Array.from(crop), width: w * s, height: h * s, channels: 3, bits: 8 });
    frames.push({ data: Uint8Array.from(lr.data, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: w, height: h, channels: 3, bits: 8 });
  }
  return { lr: frames, hr };
}

/** Static-pixel masks of frames 1..T-1 (see the header): 1 where the clean frames agree within r pixels. */
function staticMasks(clean: RawImage<Uint8Array>[], r: number): Uint8Array[] {
  const { width: w, height: h } = clean[0];
  const masks: Uint8Array[] = [new Uint8Array(0)];
  for (let t = 1; t < clean.length; t++) {
    const changed = new Uint8Array(w * h);
    const a = clean[t].data;
    const b = clean[t - 1].data;
    for (let i = 0; i < w * h; i++) changed[i] = a[3 * i] !== b[3 * i] || a[3 * i + 1] !== b[3 * i + 1] || a[3 * i + 2] !== b[3 * i + 2] ? 1 : 0;
    // Dilate by r: horizontally, then vertically (square window).
    const rows = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let any = 0;
        for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r) && !any; k++) any = changed[y * w + k];
        rows[y * w + x] = any;
      }
    }
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let any = 0;
        for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r) && !any; k++) any = rows[k * w + x];
        mask[y * w + x] = any ? 0 : 1;
      }
    }
    masks.push(mask);
  }
  return masks;
}

function addNoise(frame: RawImage<Uint8Array>, sigma: number, rng: Rng): RawImage<Uint8Array> {
  const data = new Uint8Array(frame.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(frame.data[i] + sigma * rng.normal())));
  return { ...frame, data };
}

/** Sum of |a − b| over the static pixels (mask at input resolution, `s` = output / input) and how many samples. */
function staticDiff(a: Uint8Array, b: Uint8Array, width: number, height: number, mask: Uint8Array, s: number): [number, number] {
  let sum = 0;
  let n = 0;
  const inW = width / s;
  for (let y = 0; y < height; y++) {
    const my = Math.floor(y / s) * inW;
    for (let x = 0; x < width; x++) {
      if (!mask[my + Math.floor(x / s)]) continue;
      const i = (y * width + x) * 3;
      sum += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
      n += 3;
    }
  }
  return [sum, n];
}

/** Output pixels (in [crop, size − crop) on both axes) whose input pixel is not static at frame t ≥ 1: moving content. */
function movingMask(mask: Uint8Array, width: number, height: number, s: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const inW = width / s;
  for (let y = s; y < height - s; y++) {
    for (let x = s; x < width - s; x++) out[y * width + x] = mask[Math.floor(y / s) * inW + Math.floor(x / s)] ? 0 : 1;
  }
  return out;
}

/** BT.601 studio-range Y (255 scale) of an 8-bit RGB sample triple, as the protocol's PSNR computes it. */
function luma(d: Uint8Array, i: number): number {
  return Y_OFFSET + (Y_WEIGHTS[0] * d[i] + Y_WEIGHTS[1] * d[i + 1] + Y_WEIGHTS[2] * d[i + 2]) / 255;
}

/** Per variant: flicker (sum, samples), PSNR (sum over frames, frames), moving pixels (Y squared error, |change| vs unfiltered, count). */
interface Acc {
  flicker: [number, number];
  psnr: [number, number];
  movSe: number;
  movDev: number;
  movN: number;
}
const newAcc = (): Acc => ({ flicker: [0, 0], psnr: [0, 0], movSe: 0, movDev: 0, movN: 0 });

/** The variants compared; "+filter" filters the output frames, "on filtered input" runs the model on filtered input. */
const VARIANTS = ['input', 'base', 'baseF', 'student', 'studentF', 'studentIn'] as const;
type Variant = (typeof VARIANTS)[number];
/** The unfiltered frames a variant is compared with on moving pixels. */
const UNFILTERED: Record<Variant, Variant> = { input: 'input', base: 'base', baseF: 'base', student: 'student', studentF: 'student', studentIn: 'student' };

interface Row {
  scale: number;
  noise: number;
  strength: number;
  model: string;
  baseline: string;
  staticShare: number;
  /** F per variant, 8-bit levels. */
  flicker: Record<Variant, number>;
  /** F relative to the input's. */
  relative: Record<Variant, number>;
  /** Mean over frames of Y-PSNR (crop = scale) against the clean high-resolution frames (not for the input). */
  psnr: Partial<Record<Variant, number>>;
  /** Y-PSNR over the moving pixels of the panning frames only. */
  psnrMoving: Partial<Record<Variant, number>>;
  /** Mean |filtered − unfiltered| Y on the moving pixels, levels: how much the filter changes moving content. */
  movingChange: Partial<Record<Variant, number>>;
  /** Milliseconds per frame: the student, the filter on its output, the filter on its input (same run, ratios only). */
  ms: { student: number; filterOut: number; filterIn: number };
  /** The filter's noise level (σ of the input noise, levels) over the frames: the estimate unless --noise-known. */
  noiseEstimate: { min: number; mean: number; max: number };
  /** Frames that reset the filter on the student's output (scene cuts: none in this clip). */
  resets: number;
}

const images = await stills();
const rows: Row[] = [];
const t0 = performance.now();
for (const s of scales) {
  const student = await Student.load(`x${s}`, { backend });
  const baseline = await Student.load('bicubic', { scale: s, backend: backend === 'onnx' ? 'auto' : backend });
  const r = Math.ceil(Math.max(student.info.receptiveField, baseline.info.receptiveField));
  const run = async (f: RawImage<Uint8Array>, model: Student): Promise<RawImage<Uint8Array>> => (await model.sharpenPixels(f)) as RawImage<Uint8Array>;
  try {
    for (const sigma of noiseLevels) {
      for (const strength of strengths) {
        const acc = Object.fromEntries(VARIANTS.map((v) => [v, newAcc()])) as Record<Variant, Acc>;
        const ms = { student: 0, filterOut: 0, filterIn: 0, frames: 0 };
        const noiseSeen: number[] = [];
        let resets = 0;
        let staticPx = 0;
        let px = 0;
        for (const [k, { img }] of images.entries()) {
          const { lr: clean, hr } = cleanFrames(img, s);
          const masks = staticMasks(clean, r);
          const rng = new Rng(1000 * s + 17 * k + Math.round(10 * sigma));
          const filters = { baseF: new TemporalFilter({ strength }), studentF: new TemporalFilter({ strength }), studentIn: new TemporalFilter({ strength }) };
          let prev: Record<Variant, RawImage<Uint8Array>> | undefined;
          for (let t = 0; t < T; t++) {
            const noisy = addNoise(clean[t], sigma, rng);
            const base = await run(noisy, baseline);
            let tick = performance.now();
            const studentOut = await run(noisy, student);
            ms.student += performance.now() - tick;
            tick = performance.now();
            const studentF = filters.studentF.push(noisy, studentOut);
            ms.filterOut += performance.now() - tick;
            if (filters.studentF.stats.noise !== undefined) noiseSeen.push(filters.studentF.stats.noise);
            tick = performance.now();
            const filteredIn = filters.studentIn.push(noisy, noisy);
            ms.filterIn += performance.now() - tick;
            ms.frames++;
            const cur: Record<Variant, RawImage<Uint8Array>> = {
              input: noisy,
              base,
              baseF: filters.baseF.push(noisy, base),
              student: studentOut,
              studentF,
              studentIn: await run(filteredIn, student),
            };
            for (const v of VARIANTS) {
              if (v === 'input') continue;
              acc[v].psnr[0] += await psnr(cur[v], hr[t], { yChannel: true, crop: s });
              acc[v].psnr[1]++;
            }
            if (prev) {
              const { width: w, height: h } = noisy;
              const m = masks[t];
              for (const v of VARIANTS) {
                const sc = v === 'input' ? 1 : s;
                const [d, n] = staticDiff(cur[v].data, prev[v].data, w * sc, h * sc, m, sc);
                acc[v].flicker[0] += d;
                acc[v].flicker[1] += n;
                if (v === 'input') continue;
                const moving = movingMask(m, w * s, h * s, s);
                const a = cur[v].data;
                const u = cur[UNFILTERED[v]].data;
                const g = hr[t].data;
                for (let p = 0; p < moving.length; p++) {
                  if (!moving[p]) continue;
                  const ya = luma(a, 3 * p);
                  acc[v].movSe += (ya - luma(g, 3 * p)) ** 2;
                  acc[v].movDev += Math.abs(ya - luma(u, 3 * p));
                  acc[v].movN++;
                }
              }
              staticPx += m.reduce((x, v) => x + v, 0);
              px += w * h;
            }
            prev = cur;
          }
          resets += filters.studentF.stats.resets;
        }
        const F = (x: number[]) => (x[1] > 0 ? x[0] / x[1] : NaN);
        const pick = <T>(f: (v: Variant) => T, skipInput = false): Record<Variant, T> =>
          Object.fromEntries(VARIANTS.filter((v) => !(skipInput && v === 'input')).map((v) => [v, f(v)])) as Record<Variant, T>;
        const flicker = pick((v) => F(acc[v].flicker));
        rows.push({
          scale: s,
          noise: sigma,
          strength,
          model: `x${s} (${student.info.arch}, ${student.info.backend})`,
          baseline: s === 1 ? 'identity' : 'bicubic',
          staticShare: staticPx / px,
          flicker,
          relative: pick((v) => flicker[v] / flicker.input),
          psnr: pick((v) => acc[v].psnr[0] / acc[v].psnr[1], true),
          psnrMoving: pick((v) => 10 * Math.log10((255 * 255 * acc[v].movN) / acc[v].movSe), true),
          movingChange: pick((v) => acc[v].movDev / acc[v].movN, true),
          ms: { student: ms.student / ms.frames, filterOut: ms.filterOut / ms.frames, filterIn: ms.filterIn / ms.frames },
          noiseEstimate: { min: Math.min(...noiseSeen), mean: noiseSeen.reduce((a, b) => a + b, 0) / noiseSeen.length, max: Math.max(...noiseSeen) },
          resets,
        });
        if (!json) process.stderr.write(`x${s} noise ${sigma} strength ${strength}: done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
    }
  } finally {
    student.dispose();
    baseline.dispose();
  }
}

if (json) {
  console.log(JSON.stringify({ frames: T, images: images.map((i) => i.name), rows }, null, 2));
} else {
  const f2 = (v: number) => v.toFixed(2);
  const db = (v: number | undefined) => (v === undefined ? '' : Number.isFinite(v) ? v.toFixed(2) : '∞');
  console.log(`\nFlicker on static pixels, ${images.length} image(s) (${images[0].name}${images.length > 1 ? ', ...' : ''}), ${T} frames (${Math.ceil(T / 2)} panning, then still), 8-bit levels;`);
  console.log('each output relative to the input, F(out) / F(input); "filtered": the temporal filter on the output frames, "filtered input": on the input frames, before the model:\n');
  console.log('| scale | noise σ | strength | static pixels | F(input) | baseline | baseline filtered | student | student filtered | student on filtered input | student / baseline | student filtered / baseline |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const q = r.relative;
    console.log(
      `| x${r.scale} | ${r.noise} | ${r.strength} | ${(100 * r.staticShare).toFixed(0)}% | ${f2(r.flicker.input)} | ${f2(q.base)} (${r.baseline}) | ${f2(q.baseF)} | ${f2(q.student)} | ${f2(q.studentF)} | ${f2(q.studentIn)} | ${f2(q.student / q.base)} | **${f2(q.studentF / q.base)}** |`,
    );
  }
  console.log('\nFidelity: Y-PSNR (dB, crop = scale) against the clean high-resolution frames, over all frames / over the moving pixels of the panning frames; and the mean |filtered − unfiltered| Y on the moving pixels (levels):\n');
  console.log('| scale | noise σ | strength | baseline | baseline filtered | student | student filtered | student on filtered input | moving: baseline | baseline filtered | student | student filtered | student on filtered input | change on moving: student filtered | student on filtered input |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const p = r.psnr;
    const m = r.psnrMoving;
    console.log(
      `| x${r.scale} | ${r.noise} | ${r.strength} | ${db(p.base)} | ${db(p.baseF)} | ${db(p.student)} | **${db(p.studentF)}** | ${db(p.studentIn)} | ${db(m.base)} | ${db(m.baseF)} | ${db(m.student)} | **${db(m.studentF)}** | ${db(m.studentIn)} | ${f2(r.movingChange.studentF!)} | ${f2(r.movingChange.studentIn!)} |`,
    );
  }
  console.log('\nTime per frame, same run (ratios only; the absolute times depend on the load):\n');
  for (const r of rows) {
    console.log(
      `x${r.scale}, noise ${r.noise}, strength ${r.strength}: filter on the output ${(100 * r.ms.filterOut / r.ms.student).toFixed(1)}% of the student's time, on the input ${(100 * r.ms.filterIn / r.ms.student).toFixed(1)}%` +
        ` (student ${r.ms.student.toFixed(1)} ms); noise estimate ${r.noiseEstimate.min.toFixed(2)}–${r.noiseEstimate.max.toFixed(2)} (mean ${r.noiseEstimate.mean.toFixed(2)}); resets ${r.resets}.`,
    );
  }
}
