/**
 * PNG in plain TypeScript over `node:zlib`, for the files most images are: 8- or 16-bit gray, gray + alpha, RGB or
 * RGBA, not interlaced. Loading sharp (libvips) costs a one-image CLI call more than decoding and encoding a small
 * PNG does, so these files skip it; everything else (palettes, transparency chunks, interlacing, EXIF orientation,
 * other formats, damaged files) is left to sharp, which also reports the errors. The pixels are the same either way:
 * PNG is lossless (the tests compare both decoders on every supported kind).
 *
 * Node only: `node:zlib` is imported on first use.
 */
import type { ImageSamples, RawImage } from './raw-image';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's native CRC-32 (Node ≥ 20.15), once `node:zlib` has been loaded by {@link loadZlib}. */
let nativeCrc32: ((data: Uint8Array) => number) | undefined;

/** @internal `node:zlib`, imported on first use (so that the module bundles for browsers). */
export async function loadZlib(): Promise<typeof import('node:zlib')> {
  const zlib = await import('node:zlib');
  nativeCrc32 ??= typeof zlib.crc32 === 'function' ? (b) => zlib.crc32(b) : undefined;
  return zlib;
}

/** @internal CRC-32 (ISO 3309, as PNG chunks use it) of `bytes`: zlib's when loaded, else a table in JS. */
export function crc32(bytes: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(bytes) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** @internal A PNG chunk: length, type, data, CRC of type + data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 12);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** @internal The bytes of `parts`, one after the other. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** @internal An `iCCP` chunk holding `icc` (profile name "icc", zlib-compressed). */
export function iccpChunk(zlib: typeof import('node:zlib'), icc: Uint8Array): Uint8Array {
  const name = Uint8Array.from('icc', (ch) => ch.charCodeAt(0));
  return pngChunk('iCCP', concatBytes([name, new Uint8Array(2), new Uint8Array(zlib.deflateSync(icc))]));
}

/** Channels of the PNG colour types handled here: gray, RGB, gray + alpha, RGBA. */
const COLOUR_CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 4: 2, 6: 4 };
const CHANNEL_COLOUR: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** Chunks that change how the pixels read (palette, transparency key, orientation): such files go to sharp. */
const DECLINED = new Set(['PLTE', 'tRNS', 'eXIf', 'fcTL', 'acTL']);

/** @internal What {@link parsePng} found: the header, the compressed pixel data and the ICC profile's chunk data. */
export interface PngParts {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bits: 8 | 16;
  idat: Uint8Array;
  /** `iCCP` chunk data (name, 0, method, compressed profile), when there is one. */
  iccp?: Uint8Array;
}

/**
 * @internal Reads the chunks of a PNG this module decodes; undefined for anything else (not a PNG, a palette or
 * transparency key, interlacing, orientation, an animation, a bad CRC or a truncated file: sharp's job).
 */
export async function parsePng(bytes: Uint8Array): Promise<PngParts | undefined> {
  await loadZlib();
  if (bytes.length < 8 + 25 + 12 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let header: Omit<PngParts, 'idat' | 'iccp'> | undefined;
  let iccp: Uint8Array | undefined;
  for (let o = 8; ; ) {
    if (o + 12 > bytes.length) return undefined;
    const len = dv.getUint32(o);
    if (len > bytes.length - o - 12) return undefined;
    const type = String.fromCharCode(bytes[o + 4], bytes[o + 5], bytes[o + 6], bytes[o + 7]);
    const data = bytes.subarray(o + 8, o + 8 + len);
    if (crc32(bytes.subarray(o + 4, o + 8 + len)) !== dv.getUint32(o + 8 + len)) return undefined;
    o += 12 + len;
    if (!header && type !== 'IHDR') return undefined;
    if (type === 'IHDR') {
      if (header || len !== 13) return undefined;
      const width = dv.getUint32(o - 12 - len + 8);
      const height = dv.getUint32(o - 12 - len + 12);
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      const channels = COLOUR_CHANNELS[colour];
      if (!channels || (depth !== 8 && depth !== 16) || compression !== 0 || filter !== 0 || interlace !== 0 || width === 0 || height === 0) return undefined;
      header = { width, height, channels, bits: depth };
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'iCCP') iccp = data;
    else if (type === 'IEND') break;
    else if (DECLINED.has(type)) return undefined;
  }
  if (!header || idat.length === 0) return undefined;
  let n = 0;
  for (const d of idat) n += d.length;
  const all = new Uint8Array(n);
  n = 0;
  for (const d of idat) {
    all.set(d, n);
    n += d.length;
  }
  return { ...header, idat: all, iccp };
}

/** The Paeth predictor of the PNG specification. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * @internal Undoes the row filters of inflated PNG data (`height` rows of 1 filter byte + `stride` bytes) into
 * `stride · height` bytes; undefined when a filter type is invalid or the data has the wrong length.
 */
export function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): Uint8Array | undefined {
  if (raw.length !== (stride + 1) * height) return undefined;
  const out = new Uint8Array(stride * height);
  const zeros = new Uint8Array(stride); // the row above the first
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : zeros;
    if (f === 0) row.set(src);
    else if (f === 1) {
      for (let x = 0; x < bpp; x++) row[x] = src[x];
      for (let x = bpp; x < stride; x++) row[x] = src[x] + row[x - bpp];
    } else if (f === 2) {
      for (let x = 0; x < stride; x++) row[x] = src[x] + up[x];
    } else if (f === 3) {
      for (let x = 0; x < bpp; x++) row[x] = src[x] + (up[x] >> 1);
      for (let x = bpp; x < stride; x++) row[x] = src[x] + ((row[x - bpp] + up[x]) >> 1);
    } else if (f === 4) {
      for (let x = 0; x < bpp; x++) row[x] = src[x] + up[x];
      for (let x = bpp; x < stride; x++) row[x] = src[x] + paeth(row[x - bpp], up[x], up[x - bpp]);
    } else return undefined;
  }
  return out;
}

/** Samples from unfiltered PNG bytes: 8-bit as they are, 16-bit from big-endian pairs. */
function samples(bytes: Uint8Array, bits: 8 | 16): Uint8Array | Uint16Array {
  if (bits === 8) return bytes;
  const out = new Uint16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  return out;
}

/** A decoded PNG and its ICC profile. */
export interface DecodedPng {
  image: RawImage;
  /** The embedded ICC profile (decompressed), when there is one. */
  icc?: Uint8Array;
}

/**
 * @internal Decodes the pixels of parsed PNG parts; undefined when the compressed data is damaged (sharp then
 * reports it). `withIcc: false` declines a file that has a profile (the caller converts colours with sharp).
 */
export async function decodePngParts(parts: PngParts): Promise<DecodedPng | undefined> {
  const zlib = await loadZlib();
  const { width, height, channels, bits } = parts;
  const bpp = (channels * bits) / 8;
  const stride = width * bpp;
  let raw: Uint8Array;
  let icc: Uint8Array | undefined;
  try {
    raw = zlib.inflateSync(parts.idat);
    if (parts.iccp) {
      const nul = parts.iccp.indexOf(0);
      if (nul < 1 || nul > 79 || parts.iccp[nul + 1] !== 0) return undefined;
      icc = new Uint8Array(zlib.inflateSync(parts.iccp.subarray(nul + 2)));
    }
  } catch {
    return undefined;
  }
  const bytes = unfilter(raw, stride, height, bpp);
  if (!bytes) return undefined;
  return { image: { data: samples(bytes, bits) as ImageSamples, width, height, channels, bits } as RawImage, icc };
}

/**
 * @internal Encodes 8- or 16-bit gray, gray + alpha, RGB or RGBA as PNG, with an `iCCP` chunk when `icc` is given.
 * Every row but the first takes the Up filter (the difference to the row above), compressed at zlib level 1: one
 * cheap pass in JS and the fastest deflate. On a 2048² photo that is about as fast as sharp's default PNG (no
 * filter, level 6) and less than half its size; libpng's adaptive filters at level 6 save another quarter for
 * several times the time.
 */
export async function encodePng(img: RawImage, icc?: Uint8Array): Promise<Uint8Array> {
  const zlib = await loadZlib();
  const { width, height, channels } = img;
  const bits = img.data instanceof Uint16Array ? 16 : 8;
  const stride = (width * channels * bits) / 8;
  let bytes: Uint8Array;
  if (bits === 8) bytes = img.data as Uint8Array;
  else {
    const d = img.data as Uint16Array;
    bytes = new Uint8Array(d.length * 2);
    for (let i = 0; i < d.length; i++) {
      bytes[2 * i] = d[i] >> 8;
      bytes[2 * i + 1] = d[i] & 0xff;
    }
  }
  const filtered = new Uint8Array((stride + 1) * height);
  filtered.set(bytes.subarray(0, stride), 1); // row 0: filter 0 (None)
  for (let y = 1; y < height; y++) {
    const o = y * (stride + 1);
    const r = y * stride;
    filtered[o] = 2; // Up
    for (let x = 0; x < stride; x++) filtered[o + 1 + x] = bytes[r + x] - bytes[r - stride + x];
  }
  const idat = await new Promise<Uint8Array>((resolve, reject) =>
    zlib.deflate(filtered, { level: 1 }, (e, out) => (e ? reject(e) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)))),
  );
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr.set([bits, CHANNEL_COLOUR[channels], 0, 0, 0], 8);
  const parts = [Uint8Array.from(SIGNATURE), pngChunk('IHDR', ihdr)];
  if (icc && icc.length > 0) parts.push(iccpChunk(zlib, icc));
  parts.push(pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}
