/**
 * Embeds an ICC colour profile into encoded PNG, JPEG or WebP bytes, without touching the pixels.
 * sharp can only attach a profile by converting the pixels to it; inference works in the input's own colour
 * space, so the output carries the input's profile unchanged instead.
 *
 * - PNG: an `iCCP` chunk (zlib-compressed profile) right after `IHDR`.
 * - JPEG: `APP2 ICC_PROFILE` segments (split at 65519 bytes) after the leading APPn segments.
 * - WebP: an `ICCP` chunk after a `VP8X` header (created for simple-format files).
 */
import { IoError } from '../errors';
import { concatBytes as concat, iccpChunk, loadZlib } from './png';
import type { ImageFormat } from './raw-image';

const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

async function embedPng(png: Uint8Array, icc: Uint8Array): Promise<Uint8Array> {
  const zlib = await loadZlib();
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const ihdrEnd = 8 + 12 + dv.getUint32(8);
  if (String.fromCharCode(...png.subarray(12, 16)) !== 'IHDR') throw new IoError('cannot embed ICC profile: not a PNG');
  // Drop existing colour-space chunks (iCCP, sRGB, gAMA, cHRM, cICP) that would contradict the profile.
  const kept: Uint8Array[] = [];
  for (let o = ihdrEnd; o + 12 <= png.length; ) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    if (!['iCCP', 'sRGB', 'gAMA', 'cHRM', 'cICP'].includes(type)) kept.push(png.subarray(o, o + 12 + len));
    o += 12 + len;
  }
  return concat([png.subarray(0, ihdrEnd), iccpChunk(zlib, icc), ...kept]);
}

function embedJpeg(jpg: Uint8Array, icc: Uint8Array): Uint8Array {
  if (jpg[0] !== 0xff || jpg[1] !== 0xd8) throw new IoError('cannot embed ICC profile: not a JPEG');
  // Insert after SOI and any APP0/APP1 (JFIF/EXIF) segments.
  let o = 2;
  while (o + 4 <= jpg.length && jpg[o] === 0xff && (jpg[o + 1] === 0xe0 || jpg[o + 1] === 0xe1)) o += 2 + ((jpg[o + 2] << 8) | jpg[o + 3]);
  const max = 65519;
  const count = Math.ceil(icc.length / max);
  if (count > 255) throw new IoError('cannot embed ICC profile: larger than 16 MB');
  const segs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = icc.subarray(i * max, (i + 1) * max);
    const seg = new Uint8Array(4 + 14 + part.length);
    const len = 2 + 14 + part.length;
    seg.set([0xff, 0xe2, len >> 8, len & 0xff]);
    seg.set(ascii('ICC_PROFILE\0'), 4);
    seg[16] = i + 1;
    seg[17] = count;
    seg.set(part, 18);
    segs.push(seg);
  }
  return concat([jpg.subarray(0, o), ...segs, jpg.subarray(o)]);
}

function riffChunk(type: string, data: Uint8Array): Uint8Array {
  const pad = data.length & 1;
  const out = new Uint8Array(8 + data.length + pad);
  out.set(ascii(type));
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

function embedWebp(webp: Uint8Array, icc: Uint8Array, size: { width: number; height: number; alpha: boolean }): Uint8Array {
  if (String.fromCharCode(...webp.subarray(0, 4)) !== 'RIFF' || String.fromCharCode(...webp.subarray(8, 12)) !== 'WEBP') {
    throw new IoError('cannot embed ICC profile: not a WebP');
  }
  const dv = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const chunks: Array<{ type: string; bytes: Uint8Array }> = [];
  for (let o = 12; o + 8 <= webp.length; ) {
    const len = dv.getUint32(o + 4, true);
    const type = String.fromCharCode(...webp.subarray(o, o + 4));
    chunks.push({ type, bytes: webp.subarray(o, o + 8 + len + (len & 1)) });
    o += 8 + len + (len & 1);
  }
  const found = chunks.find((c) => c.type === 'VP8X');
  let vp8x: Uint8Array;
  if (found) vp8x = found.bytes.slice();
  else {
    const d = new Uint8Array(10);
    const w = size.width - 1;
    const h = size.height - 1;
    d.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 4);
    vp8x = riffChunk('VP8X', d);
  }
  vp8x[8] |= 0x20 | (size.alpha ? 0x10 : 0);
  const rest = chunks.filter((c) => c.type !== 'VP8X' && c.type !== 'ICCP').map((c) => c.bytes);
  const body = concat([ascii('WEBP'), vp8x, riffChunk('ICCP', icc), ...rest]);
  const head = new Uint8Array(8);
  head.set(ascii('RIFF'));
  new DataView(head.buffer).setUint32(4, body.length, true);
  return concat([head, body]);
}

/**
 * Returns `bytes` (an encoded PNG, JPEG or WebP) with `icc` embedded as its colour profile. The pixels are
 * not converted. Node only (PNG needs `node:zlib`). `size` is needed for WebP (canvas size and alpha flag of the extended header).
 *
 * @throws IoError when the bytes are not of the stated format.
 * @example
 * ```ts
 * const png = await embedIccProfile(await encodeImage(img, 'png'), 'png', iccBytes);
 * ```
 */
export async function embedIccProfile(
  bytes: Uint8Array,
  format: ImageFormat,
  icc: Uint8Array,
  size: { width: number; height: number; alpha: boolean } = { width: 1, height: 1, alpha: false },
): Promise<Uint8Array> {
  if (format === 'png') return embedPng(bytes, icc);
  if (format === 'jpeg') return embedJpeg(bytes, icc);
  return embedWebp(bytes, icc, size);
}
