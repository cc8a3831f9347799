/**
 * A "screenshots" domain for the distill-on-your-own-images experiment: synthetic UI screenshots (windows, title
 * bars, buttons, paragraphs of text in several fonts, sizes and colours, code blocks), rendered by sharp from SVG with
 * the system fonts, seeded and reproducible.
 *
 * Writes, under OUT (default lab/data/screenshots, not committed):
 *   train-lr/       N_TRAIN low-resolution screenshots (the HR renders downscaled ×SCALE with MATLAB bicubic): the
 *                   "own images with no HR" a user would have; their HR is thrown away.
 *   holdout/HR/     N_HOLDOUT other screenshots at full resolution, for scoring with the literature protocol.
 *
 * Usage: npx tsx lab/scripts/make-screenshots.ts [OUT] [N_TRAIN=40] [N_HOLDOUT=8] [SCALE=4]
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng';
import { resizeBicubic } from '../../src/metrics/resize-bicubic';

const out = process.argv[2] ?? 'lab/data/screenshots';
const nTrain = Number(process.argv[3] ?? 40);
const nHoldout = Number(process.argv[4] ?? 8);
const scale = Number(process.argv[5] ?? 4);

const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono', 'Liberation Sans', 'Liberation Serif', 'Liberation Mono'];
const WORDS = (
  'the quick brown fox jumps over lazy dog settings file edit view help window open save export import sharpen ' +
  'upscale student teacher distill model layer tensor backend image pixel quality speed cancel apply ok error warning ' +
  'const let function return async await import from 0 1 2 3 4 5 6 7 8 9 42 100% 3.14 x4 1280x720'
).split(' ');

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function screenshot(seed: number, w: number, h: number): string {
  const r = new Rng(seed);
  const pick = <T>(a: T[]) => a[r.int(a.length)];
  const grey = (lo: number, hi: number) => {
    const v = Math.round(lo + r.next() * (hi - lo));
    return `rgb(${v},${v},${v})`;
  };
  const colour = () => `rgb(${r.int(200)},${r.int(200)},${r.int(200)})`;
  const dark = r.next() < 0.3;
  const parts: string[] = [`<rect width="${w}" height="${h}" fill="${dark ? grey(20, 50) : grey(225, 255)}"/>`];
  // A title bar.
  const bar = 20 + r.int(16);
  parts.push(`<rect width="${w}" height="${bar}" fill="${dark ? grey(50, 80) : grey(190, 220)}"/>`);
  parts.push(`<text x="10" y="${bar * 0.72}" font-family="${pick(FONTS)}" font-size="${Math.round(bar * 0.6)}" fill="${dark ? '#eee' : '#222'}">${esc(`${pick(WORDS)} ${pick(WORDS)} — ${pick(WORDS)}`)}</text>`);
  let y = bar + 14;
  while (y < h - 20) {
    const kind = r.next();
    if (kind < 0.2) {
      // A row of buttons.
      let x = 10;
      const bh = 18 + r.int(14);
      while (x < w - 80) {
        const label = pick(WORDS);
        const bw = 20 + label.length * 9;
        parts.push(`<rect x="${x}" y="${y}" width="${bw}" height="${bh}" rx="${r.int(6)}" fill="${colour()}" stroke="${grey(0, 120)}"/>`);
        parts.push(`<text x="${x + 8}" y="${y + bh * 0.7}" font-family="${pick(FONTS)}" font-size="${Math.round(bh * 0.55)}" fill="#fff">${esc(label)}</text>`);
        x += bw + 8 + r.int(20);
      }
      y += bh + 10;
    } else {
      // A paragraph (or a code block in a mono font).
      const mono = kind > 0.8;
      const size = 9 + r.int(10);
      const font = mono ? pick(['DejaVu Sans Mono', 'Liberation Mono']) : pick(FONTS);
      const fill = dark ? grey(180, 240) : r.next() < 0.3 ? colour() : grey(0, 70);
      const lines = 1 + r.int(5);
      if (mono) parts.push(`<rect x="6" y="${y - size}" width="${w - 12}" height="${lines * size * 1.35 + 6}" fill="${dark ? grey(30, 45) : grey(235, 248)}"/>`);
      for (let l = 0; l < lines && y < h - 10; l++) {
        const words = Array.from({ length: 3 + r.int(12) }, () => pick(WORDS)).join(' ');
        parts.push(`<text x="${10 + (mono ? 6 : 0)}" y="${y}" font-family="${font}" font-size="${size}" font-weight="${r.next() < 0.2 ? 'bold' : 'normal'}" fill="${fill}">${esc(words)}</text>`);
        y += Math.round(size * 1.35);
      }
      y += 8 + r.int(10);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${parts.join('')}</svg>`;
}

async function render(seed: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const r = new Rng(seed * 7919 + 1);
  const w = 320 + r.int(4) * 64;
  const h = 240 + r.int(3) * 64;
  const { data, info } = await sharp(Buffer.from(screenshot(seed, w, h))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

await fs.mkdir(path.join(out, 'train-lr'), { recursive: true });
await fs.mkdir(path.join(out, 'holdout/HR'), { recursive: true });
for (let i = 0; i < nTrain + nHoldout; i++) {
  const img = await render(1000 + i);
  const name = `screen${String(i).padStart(3, '0')}.png`;
  if (i < nTrain) {
    const lr = resizeBicubic({ data: img.data, width: img.width, height: img.height, channels: 3, bits: 8 }, 1 / scale);
    await sharp(Buffer.from(lr.data), { raw: { width: lr.width, height: lr.height, channels: 3 } }).png().toFile(path.join(out, 'train-lr', name));
  } else {
    await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path.join(out, 'holdout/HR', name));
  }
}
console.log(`${nTrain} low-resolution screenshots in ${path.join(out, 'train-lr')}, ${nHoldout} HR in ${path.join(out, 'holdout/HR')}`);
