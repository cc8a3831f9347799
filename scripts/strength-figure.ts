/**
 * The before / after picture of `--strength` (docs/strength.png): a procedurally generated image (src/data/procedural.ts:
 * edges, strokes, gratings; no benchmark or photo content), degraded like a blind ×1 test image, then sharpened by a
 * model at strengths 0 (the input), 0.5 and 1, next to the clean original. A crop of each, enlarged 2× (nearest) so
 * the pixels show, with a label under each panel.
 *
 *   npx tsx scripts/strength-figure.ts                        # shipped x1 -> docs/strength.png
 *   npx tsx scripts/strength-figure.ts --model <folder> --out /tmp/s.png
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { proceduralImage } from '../src/data/procedural';
import { degradeX1, describeDegradationParams } from '../src/data/x1-protocol';
import { Student } from '../src/infer/student';
import { writeFileAtomic } from '../src/io/atomic-write';
import type { RawImage } from '../src/io/raw-image';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { model: { type: 'string', default: 'x1' }, out: { type: 'string', default: path.join(root, 'docs', 'strength.png') }, seed: { type: 'string', default: '3' } },
});

const SIZE = 256; // generated image
const CROP = 112; // shown region
const ZOOM = 2;
const LABEL = 22; // label strip height

function crop(img: RawImage, x0: number, y0: number): RawImage {
  const data = new Uint8Array(CROP * CROP * 3);
  for (let y = 0; y < CROP; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + CROP) * 3), y * CROP * 3);
  return { data, width: CROP, height: CROP, channels: 3, bits: 8 };
}

/** Top-left corner of the CROP-sized window (on an 8-pixel grid) with the most gradient energy: the most detail. */
function busiestCrop(img: RawImage): [number, number] {
  let best: [number, number] = [0, 0];
  let bestE = -1;
  for (let y0 = 0; y0 + CROP <= img.height; y0 += 8) {
    for (let x0 = 0; x0 + CROP <= img.width; x0 += 8) {
      let e = 0;
      for (let y = y0; y < y0 + CROP - 1; y++) {
        for (let x = x0; x < x0 + CROP - 1; x++) {
          const i = (y * img.width + x) * 3;
          e += Math.abs(img.data[i + 3] - img.data[i]) + Math.abs(img.data[i + img.width * 3] - img.data[i]);
        }
      }
      if (e > bestE) [best, bestE] = [[x0, y0], e];
    }
  }
  return best;
}

async function panel(img: RawImage, label: string): Promise<Buffer> {
  const side = CROP * ZOOM;
  const big = await sharp(img.data, { raw: { width: CROP, height: CROP, channels: 3 } }).resize(side, side, { kernel: 'nearest' }).png().toBuffer();
  const text = `<svg width="${side}" height="${LABEL}"><rect width="100%" height="100%" fill="white"/><text x="50%" y="16" font-family="sans-serif" font-size="14" text-anchor="middle" fill="black">${label}</text></svg>`;
  return sharp({ create: { width: side, height: side + LABEL, channels: 3, background: 'white' } })
    .composite([{ input: big, top: 0, left: 0 }, { input: Buffer.from(text), top: side, left: 0 }])
    .png()
    .toBuffer();
}

async function main(): Promise<void> {
  const hr = proceduralImage(Number(args.seed), SIZE, SIZE);
  // The blind protocol's draw for this name: what a test image of the benchmark gets.
  const { lr, params } = await degradeX1(hr, `strength-figure-${args.seed}`);
  using student = await Student.load(args.model!, { scale: 1 });
  const [x0, y0] = busiestCrop(hr);
  const panels: Buffer[] = [];
  for (const s of [0, 0.5, 1]) {
    const out = s === 0 ? lr : await student.sharpen(lr, { strength: s });
    panels.push(await panel(crop(out, x0, y0), s === 0 ? 'strength 0 (input)' : `strength ${s}`));
  }
  panels.push(await panel(crop(hr, x0, y0), 'original'));
  const w = CROP * ZOOM;
  const gap = 6;
  const png = await sharp({ create: { width: panels.length * w + (panels.length - 1) * gap, height: w + LABEL, channels: 3, background: 'white' } })
    .composite(panels.map((p, i) => ({ input: p, top: 0, left: i * (w + gap) })))
    .png({ compressionLevel: 9, palette: false })
    .toBuffer();
  await writeFileAtomic(args.out!, png);
  process.stderr.write(
    `wrote ${path.relative(root, args.out!)} (${(png.length / 1024).toFixed(0)} KB): procedural image seed ${args.seed}, ${describeDegradationParams(params)}, model ${args.model} (${student.info.backend})\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`strength-figure: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
