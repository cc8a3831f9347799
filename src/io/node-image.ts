import { InputError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { assertRawImage, type RawImage } from './raw-image';

/**
 * Output encodings supported by {@link encodeImage}.
 *
 * @example
 * ```ts
 * const format: ImageFormat = 'webp';
 * const bytes = await encodeImage(raw, format, { quality: 90 });
 * ```
 */
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
  return decodeImage(await readFileBytes(file), file);
}

/** @internal Reads a file's bytes, turning a failure into an {@link InputError} that names the file. Node only. */
export async function readFileBytes(file: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new InputError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, cause: e });
  }
}

/**
 * Options of {@link encodeImage} and {@link writeImage}.
 *
 * @example
 * ```ts
 * const opts: EncodeOptions = { quality: 90, icc: decoded.icc };
 * ```
 */
export interface EncodeOptions {
  /** JPEG / WebP quality, 1–100 (default 92). */
  quality?: number;
  /** ICC profile to embed as is (the pixels are not converted), e.g. {@link DecodedImage.icc}. */
  icc?: Uint8Array;
}

/**
 * Encodes a {@link RawImage} as PNG, JPEG or WebP. Node only (sharp). 16-bit images stay 16-bit in PNG and
 * are reduced to 8 bits for JPEG and WebP. With `icc`, that profile is embedded unchanged.
 *
 * @example
 * ```ts
 * const png = await encodeImage(img, 'png');
 * ```
 */
export async function encodeImage(img: RawImage, format: ImageFormat = 'png', opts: EncodeOptions = {}): Promise<Uint8Array> {
  assertRawImage(img);
  if (img.bits === 16 && format !== 'png') img = to8Bit(img);
  const sharp = await loadSharp();
  // sharp takes the sample depth from the typed array's class (Uint16Array -> ushort), so pass it as is.
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 2 | 3 | 4, premultiplied: false } });
  const typed = img.bits === 16 ? s.toColourspace(img.channels <= 2 ? 'grey16' : 'rgb16') : img.channels <= 2 ? s.toColourspace('b-w') : s;
  const out =
    format === 'png' ? typed.png() : format === 'jpeg' ? typed.jpeg({ quality: opts.quality ?? 92 }) : typed.webp({ quality: opts.quality ?? 92 });
  const bytes = new Uint8Array(await out.toBuffer());
  if (!opts.icc || opts.icc.length === 0) return bytes;
  const { embedIccProfile } = await import('./icc-profile');
  return embedIccProfile(bytes, format, opts.icc, { width: img.width, height: img.height, alpha: img.channels === 2 || img.channels === 4 });
}

/** Keeps the first channel (and alpha) of a replicated-gray RGB(A) image. */
function grayFromRgb(img: RawImage): RawImage {
  const c = img.channels;
  const out = img.channels === 4 ? 2 : 1;
  const n = img.width * img.height;
  const d = new Uint8Array(n * out);
  for (let i = 0; i < n; i++) {
    d[i * out] = img.data[i * c];
    if (out === 2) d[i * out + 1] = img.data[i * c + 3];
  }
  return { ...img, data: d, channels: out as 1 | 2 };
}

/** 16-bit -> 8-bit with rounding. */
function to8Bit(img: RawImage): RawImage {
  const d = new Uint8Array(img.data.length);
  for (let i = 0; i < d.length; i++) d[i] = Math.round(img.data[i] / 257);
  return { ...img, data: d, bits: 8 };
}

/**
 * What {@link decodeImageWithProfile} returns: the pixels in the file's own colour space, its ICC profile and
 * its format.
 *
 * @example
 * ```ts
 * const { image, icc, format } = await decodeImageWithProfile(bytes, 'photo.jpg');
 * ```
 */
export interface DecodedImage {
  image: RawImage;
  /** The embedded ICC profile, if any (keep it with {@link EncodeOptions.icc}). */
  icc?: Uint8Array;
  /** Format detected by the decoder (`png`, `jpeg`, `webp`, `tiff`, `gif`, ...). */
  format: string;
}

/**
 * Decodes an encoded image for processing that must round-trip: EXIF orientation applied, pixels left in the
 * file's colour space (not converted to sRGB) with the ICC profile returned, gray kept gray (1 or 2 channels),
 * 16-bit kept 16-bit, alpha kept. Node only (sharp). CMYK images are converted to sRGB (no profile returned).
 *
 * @throws InputError (naming `name`) for empty, corrupt, truncated or unsupported data.
 * @example
 * ```ts
 * const { image, icc } = await decodeImageWithProfile(await fs.readFile('in.png'), 'in.png');
 * await writeImage('out.png', process(image), { icc });
 * ```
 */
export async function decodeImageWithProfile(bytes: Uint8Array, name = '<buffer>'): Promise<DecodedImage> {
  if (bytes.length === 0) throw new InputError('file is empty (0 bytes)', { file: name });
  const sharp = await loadSharp();
  try {
    const meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
    const cmyk = meta.space === 'cmyk';
    let s = sharp(bytes, { failOn: 'error', limitInputPixels: false }).rotate();
    if (!cmyk) s = s.keepIccProfile();
    const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
    const gray = meta.space === 'b-w' || meta.space === 'grey16';
    if (sixteen) s = s.toColourspace(gray ? 'grey16' : 'rgb16');
    const { data, info } = await s.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const arr = sixteen
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let image: RawImage = { data: arr, width: info.width, height: info.height, channels: info.channels as RawImage['channels'], bits: sixteen ? 16 : 8 };
    // 8-bit gray comes out as replicated RGB(A) (sharp's 'b-w' output drops alpha): keep one channel (+ alpha).
    if (gray && image.channels >= 3) image = grayFromRgb(image);
    assertRawImage(image);
    return { image, icc: !cmyk && meta.icc ? new Uint8Array(meta.icc) : undefined, format: meta.format ?? 'unknown' };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot decode image (${(e as Error).message.split('\n')[0].replace(/[:\s]+$/, '')})`, { file: name, cause: e });
  }
}

/**
 * Encodes and writes an image atomically (temp file + rename). The format follows the extension unless given.
 *
 * @example
 * ```ts
 * await writeImage('out/sharp.png', img);
 * ```
 */
export async function writeImage(file: string, img: RawImage, opts: EncodeOptions & { format?: ImageFormat } = {}): Promise<void> {
  const ext = file.toLowerCase().split('.').pop();
  const format = opts.format ?? (ext === 'jpg' || ext === 'jpeg' ? 'jpeg' : ext === 'webp' ? 'webp' : 'png');
  await writeFileAtomic(file, await encodeImage(img, format, opts));
}
