import { InputError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { assertRawImage, type RawImage } from './raw-image';

/** Output encodings supported by {@link encodeImage}. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

type SharpModule = typeof import('sharp').default;

let sharpPromise: Promise<SharpModule> | undefined;
/** @internal Loads sharp lazily (Node only). */
export async function loadSharp(): Promise<SharpModule> {
  sharpPromise ??= import('sharp').then((m) => (m.default ?? m) as SharpModule);
  return sharpPromise;
}

/**
 * Decodes an encoded image (PNG, JPEG, WebP, TIFF, GIF, AVIF, ...) into a {@link RawImage}. Node only (sharp).
 * EXIF orientation is applied. 16-bit PNGs stay 16-bit.
 *
 * @example
 * ```ts
 * const img = await decodeImage(await fs.readFile('photo.jpg'), 'photo.jpg');
 * ```
 */
export async function decodeImage(bytes: Uint8Array, name = '<buffer>'): Promise<RawImage> {
  if (bytes.length === 0) throw new InputError('file is empty (0 bytes)', { file: name });
  const sharp = await loadSharp();
  try {
    const s = sharp(bytes, { failOn: 'error', limitInputPixels: false }).rotate();
    const meta = await s.metadata();
    const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
    const pipeline = sixteen ? s.toColourspace(meta.channels && meta.channels <= 2 ? 'grey16' : 'rgb16') : s;
    const { data, info } = await pipeline.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const arr = sixteen
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const img: RawImage = { data: arr, width: info.width, height: info.height, channels: info.channels as RawImage['channels'], bits: sixteen ? 16 : 8 };
    assertRawImage(img);
    return img;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot decode image (${(e as Error).message.split('\n')[0]})`, { file: name, cause: e });
  }
}

/**
 * Reads and decodes an image file. Node only.
 *
 * @example
 * ```ts
 * const img = await readImage('../shared/data/Set5/HR/baby.png');
 * ```
 */
export async function readImage(file: string): Promise<RawImage> {
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new InputError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, cause: e });
  }
  return decodeImage(bytes, file);
}

/**
 * Encodes a {@link RawImage} as PNG, JPEG or WebP. Node only (sharp).
 *
 * @example
 * ```ts
 * const png = await encodeImage(img, 'png');
 * ```
 */
export async function encodeImage(img: RawImage, format: ImageFormat = 'png', opts: { quality?: number } = {}): Promise<Uint8Array> {
  assertRawImage(img);
  const sharp = await loadSharp();
  const s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels as 1 | 2 | 3 | 4, ...(img.bits === 16 ? { premultiplied: false } : {}) },
  });
  const typed = img.bits === 16 ? s.toColourspace(img.channels <= 2 ? 'grey16' : 'rgb16') : s;
  const out =
    format === 'png' ? typed.png() : format === 'jpeg' ? typed.jpeg({ quality: opts.quality ?? 92 }) : typed.webp({ quality: opts.quality ?? 92 });
  return new Uint8Array(await out.toBuffer());
}

/**
 * Encodes and writes an image atomically (temp file + rename). The format follows the extension unless given.
 *
 * @example
 * ```ts
 * await writeImage('out/sharp.png', img);
 * ```
 */
export async function writeImage(file: string, img: RawImage, opts: { format?: ImageFormat; quality?: number } = {}): Promise<void> {
  const ext = file.toLowerCase().split('.').pop();
  const format = opts.format ?? (ext === 'jpg' || ext === 'jpeg' ? 'jpeg' : ext === 'webp' ? 'webp' : 'png');
  await writeFileAtomic(file, await encodeImage(img, format, opts));
}
