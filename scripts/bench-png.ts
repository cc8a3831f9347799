/**
 * PNG encode and decode: sharpen-kd's own codec (`src/io/png.ts`, used by `encodeImage` / `decodeImage` for plain
 * PNGs) against sharp's, on a photo resized to each size, interleaved; each codec decodes its own output. sharp is
 * loaded before timing, so its start-up cost (about 60 ms of CPU, which a one-image CLI call no longer pays) is not
 * in these numbers.
 *
 *   npx tsx scripts/bench-png.ts [--sizes 256,1024,2048] [--rounds 7] [--image ../shared/data/Set5/HR/baby.png]
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { decodePngParts, encodePng, parsePng } from '../src/io/png';
import { loadSharp } from '../src/io/node-image';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,1024,2048' },
    rounds: { type: 'string', default: '7' },
    image: { type: 'string', default: path.join(process.env.SHARPEN_KD_DATA ?? '../shared/data', 'Set5/HR/baby.png') },
  },
});
const sizes = args.sizes.split(',').map(Number);
const rounds = Number(args.rounds);
const sharp = await loadSharp();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

console.log(`PNG codecs on ${args.image} resized (RGB, 8 bits), ${rounds} interleaved rounds, median ms\n`);
console.log('| size | encode: sharpen-kd | encode: sharp (default) | bytes: sharpen-kd | bytes: sharp | decode: sharpen-kd | decode: sharp |');
console.log('|---|---|---|---|---|---|---|');
for (const side of sizes) {
  const { data } = await sharp(args.image).resize(side, side).raw().toBuffer({ resolveWithObject: true });
  const img = { data: new Uint8Array(data), width: side, height: side, channels: 3 as const, bits: 8 as const };
  const raw = { raw: { width: side, height: side, channels: 3 as const } };
  const t: Record<string, number[]> = { ours: [], sharp: [], oursDec: [], sharpDec: [] };
  let oursBytes: Uint8Array = new Uint8Array(0);
  let sharpBytes: Buffer = Buffer.alloc(0);
  for (let r = 0; r < rounds + 1; r++) {
    let t0 = performance.now();
    oursBytes = await encodePng(img);
    const a = performance.now() - t0;
    t0 = performance.now();
    sharpBytes = await sharp(data, raw).png().toBuffer();
    const b = performance.now() - t0;
    t0 = performance.now();
    const parts = await parsePng(oursBytes);
    const decoded = parts && (await decodePngParts(parts));
    const c = performance.now() - t0;
    t0 = performance.now();
    await sharp(sharpBytes).raw().toBuffer();
    const d = performance.now() - t0;
    if (!decoded || !decoded.image.data.every((v, i) => v === img.data[i])) throw new Error('round trip changed the pixels');
    if (r === 0) continue; // warm-up
    t.ours.push(a);
    t.sharp.push(b);
    t.oursDec.push(c);
    t.sharpDec.push(d);
  }
  const f = (a: number[]) => median(a).toFixed(1);
  console.log(`| ${side}² | ${f(t.ours)} | ${f(t.sharp)} | ${oursBytes.length} | ${sharpBytes.length} | ${f(t.oursDec)} | ${f(t.sharpDec)} |`);
}
