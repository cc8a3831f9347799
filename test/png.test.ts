import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors';
import { decodeImage, decodeImageWithProfile, encodeImage } from '../src/io/node-image';
import { parsePng, pngChunk } from '../src/io/png';
import type { RawImage } from '../src/io/raw-image';

/** Deterministic noise of every sample value, in `channels` × `bits`. */
function noise(w: number, h: number, channels: 1 | 2 | 3 | 4, bits: 8 | 16): RawImage {
  const n = w * h * channels;
  const data = bits === 8 ? Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24) : Uint16Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 16);
  return { data, width: w, height: h, channels, bits } as RawImage;
}

/** A smooth image (gradients), where every row filter has something to predict. */
function smooth(w: number, h: number): RawImage<Uint8Array> {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = (x * (c + 1) + y * 3 + ((x * y) % 7)) & 0xff;
  return { data, width: w, height: h, channels: 3, bits: 8 };
}

/**
 * The same PNG with an `eXIf` chunk (orientation 1: no change) after IHDR, which the plain path leaves to sharp:
 * the same pixels through sharp's decoder.
 */
function viaSharp(png: Uint8Array): Uint8Array {
  const exif = Uint8Array.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
  const ihdrEnd = 8 + 25;
  const chunk = pngChunk('eXIf', exif);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd));
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/** 8-bit gray (+ alpha) replicated into RGB (+ alpha). */
function replicate(img: RawImage): RawImage {
  const c = img.channels;
  const n = img.width * img.height;
  const data = new Uint8Array(n * (c + 2));
  for (let i = 0; i < n; i++) {
    data.fill(img.data[i * c], i * (c + 2), i * (c + 2) + 3);
    if (c === 2) data[i * 4 + 3] = img.data[i * 2 + 1];
  }
  return { ...img, data, channels: (c + 2) as 3 | 4 };
}

const sameImage = (a: RawImage, b: RawImage) =>
  a.width === b.width && a.height === b.height && a.channels === b.channels && a.data.constructor === b.data.constructor && a.data.every((v, i) => v === b.data[i]);

describe('PNG without sharp', () => {
  it('round-trips gray, gray + alpha, RGB and RGBA at 8 and 16 bits, as sharp decodes them', async () => {
    for (const channels of [1, 2, 3, 4] as const) {
      for (const bits of [8, 16] as const) {
        const img = noise(37, 23, channels, bits);
        const png = await encodeImage(img, 'png');
        expect(await parsePng(png), `${channels}ch ${bits}-bit`).toBeDefined();
        const meta = await sharp(png).metadata();
        expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([37, 23, channels, bits === 8 ? 'uchar' : 'ushort']);
        // The same file with an orientation chunk is left to sharp: both paths must give the same image.
        const other = viaSharp(png);
        expect(await parsePng(other)).toBeUndefined();
        expect((await sharp(other).metadata()).orientation).toBe(1);
        const decodeFirst = (b: Uint8Array) => decodeImage(b, 'x.png');
        for (const decode of [decodeFirst, async (b: Uint8Array) => (await decodeImageWithProfile(b, 'x.png')).image]) {
          const fast = await decode(png);
          const sharpDecoded = await decode(other);
          // decodeImage gives 8-bit gray as RGB(A), as sharp does; decodeImageWithProfile keeps it gray.
          const asDecoded = decode === decodeFirst && bits === 8 && channels <= 2 ? replicate(img) : img;
          expect(sameImage(fast, asDecoded), `${channels}ch ${bits}-bit`).toBe(true);
          expect(sameImage(sharpDecoded, fast), `${channels}ch ${bits}-bit via sharp`).toBe(true);
        }
      }
    }
  });

  it('decodes every row filter (files written by sharp with adaptive filtering) like sharp does', async () => {
    const img = smooth(64, 48);
    const raw = { raw: { width: 64, height: 48, channels: 3 as const } };
    const png = new Uint8Array(await sharp(img.data, raw).png({ adaptiveFiltering: true, compressionLevel: 9 }).toBuffer());
    const parts = (await parsePng(png))!;
    expect(parts).toBeDefined();
    const inflated = (await import('node:zlib')).inflateSync(parts.idat);
    const filters = new Set(Array.from({ length: 48 }, (_, y) => inflated[y * (64 * 3 + 1)]));
    expect(filters.size).toBeGreaterThan(1);
    expect(sameImage(await decodeImage(png, 'f.png'), img)).toBe(true);
  });

  it('keeps an ICC profile with the unconverted pixels, and leaves colour conversion to sharp', async () => {
    const img = smooth(16, 12);
    const src = new Uint8Array(await sharp(img.data, { raw: { width: 16, height: 12, channels: 3 } }).withIccProfile('p3').png().toBuffer());
    expect((await parsePng(src))?.iccp).toBeDefined();
    const icc = (await sharp(src).metadata()).icc!;
    const d = await decodeImageWithProfile(src, 'p3.png');
    expect(Buffer.from(d.icc!).equals(icc)).toBe(true);
    expect(Buffer.from(d.image.data as Uint8Array).equals(await sharp(src).keepIccProfile().raw().toBuffer())).toBe(true);
    // decodeImage converts to sRGB (sharp's path), so it differs from the stored samples.
    const converted = await decodeImage(src, 'p3.png');
    expect(Buffer.from(converted.data as Uint8Array).equals(await sharp(src).raw().toBuffer())).toBe(true);
    expect(sameImage(converted, d.image)).toBe(false);
    // Written back with the profile: sharp reads the same profile and pixels.
    const out = await encodeImage(d.image, 'png', { icc: d.icc });
    expect(Buffer.from((await sharp(out).metadata()).icc!).equals(icc)).toBe(true);
    expect(Buffer.from(await sharp(out).keepIccProfile().raw().toBuffer()).equals(Buffer.from(d.image.data as Uint8Array))).toBe(true);
  });

  it('leaves damaged files to sharp, which reports them as InputError, and checks the pixel limit first', async () => {
    const png = await encodeImage(noise(20, 10, 3, 8), 'png');
    const badCrc = png.slice();
    badCrc[png.length - 20] ^= 0xff; // inside IDAT
    expect(await parsePng(badCrc)).toBeUndefined();
    await expect(decodeImage(badCrc, 'bad.png')).rejects.toBeInstanceOf(InputError);
    await expect(decodeImage(png.slice(0, png.length - 30), 'cut.png')).rejects.toBeInstanceOf(InputError);
    await expect(decodeImage(png, 'big.png', { maxPixels: 199 })).rejects.toThrow(/pixels/);
    const seen: unknown[] = [];
    await decodeImageWithProfile(png, 'ok.png', { onHeader: (h) => seen.push(h) });
    expect(seen).toEqual([{ format: 'png', width: 20, height: 10, pages: 1, animated: false, frames: 1 }]);
  });
});
