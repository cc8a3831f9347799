/**
 * Test helper: writes a valid gray PNG of `side`×`side` zero pixels (a decompression bomb) without ever holding
 * the pixels: the rows are all zero bytes (filter 0 + samples), streamed through zlib in 16 MB pieces of one
 * shared zero buffer. 60000×60000 at 1 bit per pixel is 450 MB of rows and about 0.45 MB on disk.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import * as zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  let c = 0xffffffff;
  for (const b of body) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, body.length + 4);
  return out;
}

/** Writes the bomb to `file`; `bits` is 1 or 8 (8 takes about 8× longer to deflate). */
export async function writePngBomb(file: string, side: number, bits: 1 | 8 = 1): Promise<void> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = bits; // bit depth
  ihdr[9] = 0; // gray
  const deflate = zlib.createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const ended = once(deflate, 'end');
  const zeros = Buffer.alloc(1 << 24);
  for (let left = (1 + Math.ceil((side * bits) / 8)) * side; left > 0; left -= zeros.length) {
    if (!deflate.write(zeros.subarray(0, Math.min(left, zeros.length)))) await once(deflate, 'drain');
  }
  deflate.end();
  await ended;
  const out = createWriteStream(file);
  out.write(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  out.write(chunk('IHDR', ihdr));
  out.write(chunk('IDAT', Buffer.concat(parts)));
  out.end(chunk('IEND', new Uint8Array(0)));
  await once(out, 'finish');
}
