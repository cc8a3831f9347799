/**
 * Tunes the classical ×1 baselines on the TRAINING sets (never on Set5 / Set14), for the blind ×1 benchmark:
 *
 * - sharp's `sharpen({ sigma, m1, m2, y2, y3 })`: a grid search (sigma × m1 × m2 × the y2 / y3 caps), the best mean
 *   Y-PSNR wins; it becomes `SHARP_SHARPEN_X1` in src/classical/sharp-sharpen.ts.
 * - the Wiener deconvolution's regularisation `λ = λ₀ + c·σ̂²` (grid over λ₀ and c, scored on the blind method:
 *   estimated σ, then Wiener), then the factor applied to the σ estimate; they become `WIENER_X1` and
 *   `BLIND_X1_SHRINK` in src/classical/deconvolve.ts. The oracle (true kernel) is reported with the same λ.
 *
 * Crops: `--crops` (default 64) squares of `--size` (default 128) pixels at seeded random positions of random images
 * of T91, BSDS200, Kodak24 and McMaster (`$SHARPEN_KD_DATA`, default ../shared/data), each degraded with its own
 * draw of the blind ×1 distribution (`BLIND_X1_DEGRADATION`; the crop is degraded on its own, mirrored borders).
 * Scored like the benchmark: Y-PSNR with a 1-pixel border ignored, mean over the crops.
 *
 *   npx tsx lab/scripts/tune-x1-baselines.ts                 # about 3 minutes of CPU
 *   npx tsx lab/scripts/tune-x1-baselines.ts --crops 16      # quick look
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../../src/core/rng';
import { BLIND_X1_DEGRADATION, degradeImage, resolveDegradation, sampleDegradation, type DegradationParams } from '../../src/data/degrade';
import { reflectIndex, rgbFromRaw } from '../../src/data/pixels';
import { listImageFiles } from '../../src/io/image-files';
import { readImage } from '../../src/io/node-image';
import { fromFloatRgb, type RawImage } from '../../src/io/raw-image';
import { psnr } from '../../src/metrics/psnr';
import { estimateBlurSigma } from '../../src/classical/blind';
import { addToColour, blurTransfer, estimateNoise, lumaPlane, paddedSpectrum, wienerFromSpectrum, type BlurKernel, type Spectrum } from '../../src/classical/deconvolve';
import { sharpSharpen, type SharpSharpenParams } from '../../src/classical/sharp-sharpen';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({ options: { crops: { type: 'string', default: '64' }, size: { type: 'string', default: '128' }, seed: { type: 'string', default: '2024' } } });
const N = Number(args.crops);
const SIZE = Number(args.size);
const SEED = Number(args.seed);
const dataDir = path.resolve(root, process.env.SHARPEN_KD_DATA ?? '../shared/data');
const SETS = ['T91', 'BSDS200', 'Kodak24', 'McMaster'];
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Crop {
  hr: RawImage;
  lr: RawImage;
  params: DegradationParams;
  y: Float64Array;
  noise: number;
  spec: Spectrum;
  sigmaHat: number;
}

async function makeCrops(): Promise<Crop[]> {
  const files = (await Promise.all(SETS.map((s) => listImageFiles(path.join(dataDir, s, 'HR'))))).flat();
  const cfg = resolveDegradation(1, BLIND_X1_DEGRADATION);
  const rng = new Rng(SEED);
  const cache = new Map<string, RawImage<Uint8Array | Float32Array>>();
  const crops: Crop[] = [];
  while (crops.length < N) {
    const file = files[rng.int(files.length)];
    let img = cache.get(file);
    if (!img) cache.set(file, (img = rgbFromRaw(await readImage(file))));
    const params = sampleDegradation(rng, cfg);
    if (img.width < SIZE || img.height < SIZE) continue;
    const x = rng.int(img.width - SIZE + 1);
    const y0 = rng.int(img.height - SIZE + 1);
    const data = new Uint8Array(SIZE * SIZE * 3);
    const src = img.data;
    for (let r = 0; r < SIZE; r++) {
      for (let i = 0; i < SIZE * 3; i++) {
        const v = src[((y0 + r) * img.width + x) * 3 + i];
        data[r * SIZE * 3 + i] = src instanceof Uint8Array ? v : Math.round(v * 255);
      }
    }
    const hr: RawImage = { data, width: SIZE, height: SIZE, channels: 3, bits: 8 };
    const out = await degradeImage(hr, cfg, params);
    const lr = fromFloatRgb(out.data, SIZE, SIZE, 8);
    const y = lumaPlane(lr);
    crops.push({ hr, lr, params, y, noise: estimateNoise(y, SIZE, SIZE), spec: paddedSpectrum(y, SIZE, SIZE, 64), sigmaHat: estimateBlurSigma(lr) });
  }
  return crops;
}

/** Studio-range BT.601 Y (255 scale) of an 8-bit RGB image, as the metrics compute it. */
function studioY(img: RawImage): Float64Array {
  const n = img.width * img.height;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = 16 + (65.481 * img.data[3 * i] + 128.553 * img.data[3 * i + 1] + 24.966 * img.data[3 * i + 2]) / 255;
  return y;
}

const hrY = new WeakMap<RawImage, Float64Array>();
/** Y-PSNR with a 1-pixel border ignored: `psnr(out, hr, { yChannel: true, crop: 1 })`, without its generality (checked equal in main). */
function score(out: RawImage, hr: RawImage): number {
  let b = hrY.get(hr);
  if (!b) hrY.set(hr, (b = studioY(hr)));
  const a = studioY(out);
  const w = hr.width;
  let sum = 0;
  let count = 0;
  for (let y = 1; y < hr.height - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const d = a[y * w + x] - b[y * w + x];
      sum += d * d;
      count++;
    }
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * count) / sum);
}

async function mean(crops: Crop[], f: (c: Crop, i: number) => Promise<RawImage> | RawImage): Promise<number> {
  let s = 0;
  for (const [i, c] of crops.entries()) s += score(await f(c, i), c.hr);
  return s / crops.length;
}

/** Mosaic layout: crops side by side, each with a mirrored margin of MARGIN pixels. */
const MARGIN = 24;
const COLS = 8;

function buildMosaic(crops: Crop[]): RawImage {
  const t = SIZE + 2 * MARGIN;
  const rows = Math.ceil(crops.length / COLS);
  const W = COLS * t;
  const data = new Uint8Array(W * rows * t * 3);
  for (const [i, c] of crops.entries()) {
    const ox = (i % COLS) * t;
    const oy = Math.floor(i / COLS) * t;
    for (let y = 0; y < t; y++) {
      const sy = reflectIndex(y - MARGIN, SIZE);
      for (let x = 0; x < t; x++) {
        const sx = reflectIndex(x - MARGIN, SIZE);
        for (let k = 0; k < 3; k++) data[((oy + y) * W + ox + x) * 3 + k] = c.lr.data[(sy * SIZE + sx) * 3 + k];
      }
    }
  }
  return { data, width: W, height: rows * t, channels: 3, bits: 8 };
}

function fromMosaic(m: RawImage, i: number): RawImage {
  const t = SIZE + 2 * MARGIN;
  const ox = (i % COLS) * t + MARGIN;
  const oy = Math.floor(i / COLS) * t + MARGIN;
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) data.set(m.data.subarray(((oy + y) * m.width + ox) * 3, ((oy + y) * m.width + ox + SIZE) * 3), y * SIZE * 3);
  return { data, width: SIZE, height: SIZE, channels: 3, bits: 8 };
}

function wiener(c: Crop, kernel: BlurKernel, reg: { lambda0: number; noiseGain: number }): RawImage {
  if (kernel.sigma === 0 && !kernel.motion) return c.lr;
  const k = blurTransfer(kernel, c.spec.n, c.spec.m);
  const sharp = wienerFromSpectrum(c.spec, SIZE, SIZE, k, reg.lambda0 + reg.noiseGain * c.noise * c.noise);
  for (let i = 0; i < sharp.length; i++) sharp[i] -= c.y[i];
  return addToColour(c.lr, sharp);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const crops = await makeCrops();
  log(`${crops.length} crops of ${SIZE}x${SIZE} from ${SETS.join(', ')} (seed ${SEED}), degraded with the blind x1 distribution, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const check = await psnr(crops[0].lr, crops[0].hr, { yChannel: true, crop: 1 });
  if (Math.abs(check - score(crops[0].lr, crops[0].hr)) > 1e-9) throw new Error(`internal: fast Y-PSNR ${score(crops[0].lr, crops[0].hr)} differs from psnr() ${check}`);
  const sig = crops.filter((c) => !c.params.motion);
  const err = sig.reduce((a, c) => a + Math.abs(c.sigmaHat - c.params.sigma), 0) / Math.max(1, sig.length);
  log(`sigma estimate: mean |error| ${err.toFixed(3)} px over the ${sig.length} crops without motion blur`);
  log(`degraded input: ${(await mean(crops, (c) => c.lr)).toFixed(3)} dB`);

  // sharp sharpen() grid, on a mosaic of the crops (each with a mirrored margin) so that one call scores them all.
  const mosaic = buildMosaic(crops);
  const sharpScore = async (p: SharpSharpenParams | 'default') => {
    const out = await sharpSharpen(mosaic, p);
    return mean(crops, (_, i) => fromMosaic(out, i));
  };
  log(`sharp sharpen() defaults: ${(await sharpScore('default')).toFixed(3)} dB`);
  let bestSharp: { p: SharpSharpenParams; db: number } = { p: { sigma: 1 }, db: -Infinity };
  const caps: Array<Pick<SharpSharpenParams, 'y2' | 'y3'>> = [{}, { y2: 40, y3: 40 }, { y2: 100, y3: 100 }];
  for (const sigma of [0.75, 1, 1.5, 2]) {
    for (const m1 of [0.25, 0.5, 1, 2]) {
      for (const m2 of [0.25, 0.5, 1, 2]) {
        for (const cap of caps) {
          const p = { sigma, m1, m2, ...cap };
          const db = await sharpScore(p);
          if (db > bestSharp.db) bestSharp = { p, db };
        }
      }
    }
    log(`  sharp grid: sigma ${sigma} done, best so far ${JSON.stringify(bestSharp.p)} ${bestSharp.db.toFixed(3)} dB`);
  }
  log(`sharp sharpen() tuned: ${JSON.stringify(bestSharp.p)} ${bestSharp.db.toFixed(3)} dB`);

  // Wiener regularisation and the shrink of the sigma estimate, scored on the blind method (estimated sigma):
  // lambda0 x c at shrink 0.8, then shrink, then lambda0 x c again at that shrink.
  let best = { reg: { lambda0: 0.02, noiseGain: 0 }, shrink: 0.8, db: -Infinity };
  const regGrid = async () => {
    for (const lambda0 of [2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1]) {
      const row: string[] = [];
      for (const noiseGain of [0, 3e-3, 1e-2, 3e-2]) {
        const reg = { lambda0, noiseGain };
        const db = await mean(crops, (c) => wiener(c, { sigma: c.sigmaHat * best.shrink }, reg));
        row.push(`c=${noiseGain}: ${db.toFixed(3)}`);
        if (db > best.db) best = { ...best, reg, db };
      }
      log(`  wiener blind, shrink ${best.shrink}, lambda0 ${lambda0}: ${row.join(', ')}`);
    }
  };
  await regGrid();
  for (const shrink of [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1]) {
    const db = await mean(crops, (c) => wiener(c, { sigma: c.sigmaHat * shrink }, best.reg));
    log(`  wiener blind, ${JSON.stringify(best.reg)}, shrink ${shrink}: ${db.toFixed(3)} dB`);
    if (db > best.db) best = { ...best, shrink, db };
  }
  await regGrid();
  const oracle = await mean(crops, (c) => wiener(c, { sigma: c.params.sigma, motion: c.params.motion }, best.reg));
  log(`wiener blind: ${JSON.stringify(best.reg)}, shrink ${best.shrink}: ${best.db.toFixed(3)} dB; oracle (true kernel, same lambda): ${oracle.toFixed(3)} dB`);
  log(`\nchosen (paste into the code):`);
  log(`  SHARP_SHARPEN_X1 = ${JSON.stringify(bestSharp.p)}`);
  log(`  WIENER_X1 = ${JSON.stringify(best.reg)}`);
  log(`  BLIND_X1_SHRINK = ${best.shrink}`);
  log(`in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
}

main().catch((e: unknown) => {
  process.stderr.write(`tune-x1-baselines: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
