/**
 * Where a ×1 model wins or loses against blind Wiener, factor by factor: every image of the blind benchmark with its
 * drawn degradation in full, then without the JPEG, then without the noise and the JPEG (the blur alone), scored for the
 * degraded input, blind Wiener, the oracle Wiener and the model (Y-PSNR, 1-pixel border, as `sharpen-kd eval --scale 1`).
 *
 * Usage: npx tsx lab/scripts/x1-factors.ts [model dir or shipped name, default x1] [--data ../shared/data] [--sets Set5,Set14]
 */
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { blindDeconvolve } from '../../src/classical/blind';
import { wienerDeconvolve } from '../../src/classical/deconvolve';
import { degradeImage, resolveDegradation, BLIND_X1_DEGRADATION, type DegradationParams } from '../../src/data/degrade';
import { rgbFromRaw } from '../../src/data/pixels';
import { blindX1Params } from '../../src/data/x1-protocol';
import { Student } from '../../src/infer/student';
import { fromFloatRgb, type RawImage } from '../../src/io/raw-image';
import { readImage } from '../../src/io/node-image';
import { scoreImage } from '../../src/metrics/protocol';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const dataDir = flag('--data', process.env.SHARPEN_KD_DATA ?? '../shared/data');
const sets = flag('--sets', 'Set5,Set14').split(',');
const modelRef = args[0] ?? 'x1';
const student = await Student.load(modelRef);
const cfg = resolveDegradation(1, BLIND_X1_DEGRADATION);
const variants: [string, (p: DegradationParams) => DegradationParams][] = [
  ['full', (p) => p],
  ['no JPEG', (p) => ({ ...p, jpegQuality: 0 })],
  ['blur only', (p) => ({ ...p, jpegQuality: 0, noise: 0 })],
];
const score = async (img: RawImage, hr: RawImage) => (await scoreImage(img, hr, 1)).psnr;

console.log(`model ${modelRef}; Y-PSNR dB; Δ = model − blind Wiener`);
console.log('| set | image | σ | motion | noise | JPEG q | variant | input | Wiener | oracle | model | Δ |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const sums = new Map<string, { n: number; delta: number }>();
for (const set of sets) {
  const dir = path.join(dataDir, set, 'HR');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.png')).sort()) {
    const name = path.basename(file, '.png');
    const hr = await readImage(path.join(dir, file));
    const drawn = blindX1Params(name);
    for (const [variant, change] of variants) {
      const p = change(drawn);
      const out = await degradeImage(rgbFromRaw(hr), cfg, p);
      const lr = fromFloatRgb(out.data, out.width, out.height, 8);
      const wiener = blindDeconvolve(lr).image;
      const oracle = wienerDeconvolve(lr, { sigma: p.sigma, motion: p.motion });
      const mine = await student.sharpen(lr);
      const s = [await score(lr, hr), await score(wiener, hr), await score(oracle, hr), await score(mine, hr)];
      const key = `${set} ${variant}`;
      const acc = sums.get(key) ?? { n: 0, delta: 0 };
      sums.set(key, { n: acc.n + 1, delta: acc.delta + s[3] - s[1] });
      const motion = p.motion ? p.motion.length.toFixed(1) : '–';
      console.log(`| ${set} | ${name} | ${p.sigma.toFixed(2)} | ${motion} | ${p.noise.toFixed(1)} | ${p.jpegQuality || '–'} | ${variant} | ${s.map((v) => v.toFixed(2)).join(' | ')} | ${(s[3] - s[1]).toFixed(2)} |`);
    }
  }
}
for (const [key, { n, delta }] of sums) console.log(`${key}: mean Δ ${(delta / n).toFixed(2)} dB over ${n} images`);
student.dispose();
