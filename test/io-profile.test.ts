import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors';
import { decodeImageWithProfile, encodeImage } from '../src/io/node-image';
import type { RawImage } from '../src/io/raw-image';

function rgb(w: number, h: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let i = 0; i < b.length; i++) b[i] = (i * 37) % 256;
  return b;
}

describe('decodeImageWithProfile / encodeImage with icc', () => {
  it('keeps the pixels in the file colour space and round-trips the ICC profile (png, jpeg, webp)', async () => {
    const src = await sharp(rgb(16, 12), { raw: { width: 16, height: 12, channels: 3 } }).withIccProfile('p3').png().toBuffer();
    const srcIcc = (await sharp(src).metadata()).icc!;
    expect(srcIcc.length).toBeGreaterThan(100);
    const d = await decodeImageWithProfile(src, 'p3.png');
    expect(d.format).toBe('png');
    expect(Buffer.from(d.icc!).equals(srcIcc)).toBe(true);
    // Pixels untouched by colour management: equal to the raw PNG samples (sharp's default converts P3 -> sRGB).
    const native = await sharp(src).keepIccProfile().raw().toBuffer();
    const converted = await sharp(src).raw().toBuffer();
    expect(Buffer.from(d.image.data as Uint8Array).equals(native)).toBe(true);
    expect(native.equals(converted)).toBe(false);
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      for (const img of [d.image, { ...d.image, channels: 4 as const, data: new Uint8Array(16 * 12 * 4).fill(200) }]) {
        const out = await encodeImage(img, format, { icc: d.icc });
        const meta = await sharp(out).metadata();
        expect(meta.format).toBe(format);
        expect(Buffer.from(meta.icc!).equals(srcIcc), `${format} ${img.channels}ch`).toBe(true);
        expect([meta.width, meta.height]).toEqual([16, 12]);
        // Still decodes fully (not corrupted by the splice).
        const back = await sharp(out).raw().toBuffer({ resolveWithObject: true });
        expect(back.info.width).toBe(16);
      }
    }
  });

  it('keeps gray gray, 16-bit 16-bit, alpha, and applies EXIF orientation', async () => {
    const g16 = new Uint16Array(5 * 3 * 2).map((_, i) => i * 2000);
    const png16 = await sharp(g16, { raw: { width: 5, height: 3, channels: 2 } }).toColourspace('grey16').png().toBuffer();
    const d16 = await decodeImageWithProfile(png16, 'g16.png');
    expect([d16.image.channels, d16.image.bits]).toEqual([2, 16]);
    expect(Array.from(d16.image.data)).toEqual(Array.from(g16));
    const again = await decodeImageWithProfile(await encodeImage(d16.image, 'png'), 'again.png');
    expect(Array.from(again.image.data)).toEqual(Array.from(g16));

    const gray = await sharp(Buffer.alloc(6 * 4, 77), { raw: { width: 6, height: 4, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const dg = await decodeImageWithProfile(gray);
    expect(dg.image.channels).toBe(1);
    const ga: RawImage = { data: new Uint8Array(6 * 4 * 2).map((_, i) => i), width: 6, height: 4, channels: 2, bits: 8 };
    for (const img of [dg.image, ga]) {
      const back = await decodeImageWithProfile(await encodeImage(img, 'png'));
      expect(back.image.channels).toBe(img.channels);
      expect(Array.from(back.image.data)).toEqual(Array.from(img.data));
    }

    const rot = await sharp(rgb(8, 6), { raw: { width: 8, height: 6, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const dr = await decodeImageWithProfile(rot, 'rot.jpg');
    expect([dr.image.width, dr.image.height]).toEqual([6, 8]);
  });

  it('16-bit images are reduced to 8 bits for jpeg', async () => {
    const img: RawImage = { data: new Uint16Array(4 * 4 * 3).fill(65535), width: 4, height: 4, channels: 3, bits: 16 };
    const back = await sharp(await encodeImage(img, 'jpeg')).raw().toBuffer();
    expect(back[0]).toBe(255);
  });

  it('empty, truncated and non-image bytes give InputError naming the file', async () => {
    const png = await sharp(rgb(64, 64), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    for (const [bytes, re] of [
      [new Uint8Array(0), /empty/],
      [png.subarray(0, png.length / 2), /cannot decode/],
      [new TextEncoder().encode('hello, not an image'), /cannot decode/],
    ] as const) {
      const e = await decodeImageWithProfile(bytes, 'bad.png').catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(/^bad\.png: /);
      expect(e.message).toMatch(re);
    }
  });
});
