/**
 * Temporal stability of per-frame super-resolution: does the student turn input noise into more flicker than
 * bicubic interpolation does?
 *
 *   npx tsx scripts/video-flicker.ts [--scales 4,2,1] [--noise 2] [--frames 24] [--images 14] [--backend auto] [--json]
 *
 * The clip. For each image of Set14 ($SHARPEN_KD_DATA/Set14/HR, default ../shared/data; a generated image when it is
 * missing), a window of (w·s)×(h·s) high-resolution pixels (w×h = 128×96 low-resolution pixels, s = the scale) pans
 * right by one high-resolution pixel per frame (1/s of a low-resolution pixel: sub-pixel motion) for the first half
 * of the frames and holds still for the second half. Each window is downscaled by s with MATLAB bicubic (rounded to
 * 8 bits): the clean frames C_t. The input frames are N_t = round(C_t + n_t), n_t Gaussian with standard deviation
 * `--noise` 8-bit levels (default 2), independent for every pixel, channel and frame, clamped to [0, 255].
 * The student (x4 / x2 / x1 as shipped) and bicubic (identity at x1) upscale every N_t on its own, to 8 bits, as
 * `sharpen-kd video` does, but without a video codec (whose own temporal artefacts would blur the comparison).
 *
 * Static pixels. An input pixel p is static at frame t (t ≥ 1) when the clean frames are identical,
 * C_t = C_{t-1} in all channels, at every pixel within r of p (a (2r+1)² square, r = the largest receptive-field
 * radius of the models compared, rounded up). An output pixel is static when the input pixel it lies in is. On
 * static pixels a model sees the same clean content at t and t-1, so any change of its output there is noise
 * turned into flicker (without noise it is exactly 0).
 *
 * Flicker. F(X) = mean over t = 1..T-1, over the static pixels of frame t and over R, G, B of |X_t − X_{t-1}|, in
 * 8-bit levels. The table gives F of the input N, of each output, and each output's F relative to the input's,
 * F(out) / F(N): how much frame-to-frame noise the upscaler passes on (bicubic averages noise away, < 1; a
 * sharpening model amplifies it). "student / bicubic" is the ratio of the two relative flickers: above 1, the
 * student flickers more than bicubic on the same clip.
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

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const scales = flag('--scales', '4,2,1').split(',').map(Number);
const noiseLevels = flag('--noise', '2').split(',').map(Number);
const T = Number(flag('--frames', '24'));
const maxImages = Number(flag('--images', '14'));
const backend = flag('--backend', 'auto') as InferenceBackend;
const json = args.includes('--json');
const LR_W = 128;
const LR_H = 96;
if (!scales.every((s) => [1, 2, 4].includes(s)) || !noiseLevels.every((n) => n >= 0) || !(T >= 4)) {
  console.error('usage: video-flicker.ts [--scales 4,2,1] [--noise 2] [--frames 24 (>= 4)] [--images 14] [--backend auto] [--json]');
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
function cleanFrames(img: RawImage<Uint8Array>, s: number): RawImage<Uint8Array>[] {
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
  const crop = new Float64Array(w * s * h * s * 3);
  for (let t = 0; t < T; t++) {
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
    frames.push({ data: Uint8Array.from(lr.data, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: w, height: h, channels: 3, bits: 8 });
  }
  return frames;
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

async function upscale(student: Student, f: RawImage<Uint8Array>): Promise<Uint8Array> {
  return (await student.sharpenPixels(f)).data as Uint8Array;
}

interface Row {
  scale: number;
  noise: number;
  model: string;
  baseline: string;
  staticShare: number;
  input: number;
  baselineOut: number;
  studentOut: number;
  baselineRel: number;
  studentRel: number;
  ratio: number;
}

const images = await stills();
const rows: Row[] = [];
const t0 = performance.now();
for (const s of scales) {
  const student = await Student.load(`x${s}`, { backend });
  const baseline = await Student.load('bicubic', { scale: s, backend: backend === 'onnx' ? 'auto' : backend });
  const r = Math.ceil(Math.max(student.info.receptiveField, baseline.info.receptiveField));
  try {
    for (const sigma of noiseLevels) {
      const sums = { input: [0, 0], base: [0, 0], student: [0, 0], staticPx: 0, px: 0 };
      for (const [k, { img }] of images.entries()) {
        const clean = cleanFrames(img, s);
        const masks = staticMasks(clean, r);
        const rng = new Rng(1000 * s + 17 * k + Math.round(10 * sigma));
        let prev: { noisy: RawImage<Uint8Array>; base: Uint8Array; student: Uint8Array } | undefined;
        for (let t = 0; t < T; t++) {
          const noisy = addNoise(clean[t], sigma, rng);
          const cur = { noisy, base: await upscale(baseline, noisy), student: await upscale(student, noisy) };
          if (prev) {
            const { width: w, height: h } = noisy;
            const m = masks[t];
            for (const [key, a, b, sc] of [
              ['input', cur.noisy.data, prev.noisy.data, 1],
              ['base', cur.base, prev.base, s],
              ['student', cur.student, prev.student, s],
            ] as const) {
              const [d, n] = staticDiff(a, b, w * sc, h * sc, m, sc);
              sums[key][0] += d;
              sums[key][1] += n;
            }
            sums.staticPx += m.reduce((x, v) => x + v, 0);
            sums.px += w * h;
          }
          prev = cur;
        }
      }
      const F = (x: number[]) => (x[1] > 0 ? x[0] / x[1] : NaN);
      const input = F(sums.input);
      const row: Row = {
        scale: s,
        noise: sigma,
        model: `x${s} (${student.info.arch}, ${student.info.backend})`,
        baseline: s === 1 ? 'identity' : 'bicubic',
        staticShare: sums.staticPx / sums.px,
        input,
        baselineOut: F(sums.base),
        studentOut: F(sums.student),
        baselineRel: F(sums.base) / input,
        studentRel: F(sums.student) / input,
        ratio: F(sums.student) / input / (F(sums.base) / input),
      };
      rows.push(row);
      if (!json) process.stderr.write(`x${s} noise ${sigma}: done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
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
  console.log(`\nFlicker on static pixels, ${images.length} image(s) (${images[0].name}${images.length > 1 ? ', ...' : ''}), ${T} frames (${Math.ceil(T / 2)} panning, then still), 8-bit levels:\n`);
  console.log('| scale | noise σ | static pixels | F(input) | F(baseline) | F(student) | baseline / input | student / input | student / baseline |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| x${r.scale} | ${r.noise} | ${(100 * r.staticShare).toFixed(0)}% | ${f2(r.input)} | ${f2(r.baselineOut)} (${r.baseline}) | ${f2(r.studentOut)} (${r.model}) | ${f2(r.baselineRel)} | ${f2(r.studentRel)} | **${f2(r.ratio)}** |`);
  }
  console.log('');
  for (const r of rows) {
    const pct = (r.ratio - 1) * 100;
    console.log(`x${r.scale}, noise ${r.noise}: the student ${pct > 0 ? `adds ${pct.toFixed(0)}% more flicker than` : `flickers ${(-pct).toFixed(0)}% less than`} ${r.baseline}${r.scale === 1 ? ' (the input itself)' : ''}.`);
  }
}
