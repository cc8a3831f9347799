import { loadNodePackage } from '../platform/node-package';
import { ConfigError, InputError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { checkInputPixels, DEFAULT_MAX_PIXELS, resolveLimit } from './pixel-limits';
import { decodePngParts, encodePng, parsePng, type DecodedPng } from './png';
import { assertRawImage, type ImageFormat, type RawImage } from './raw-image';

export type { ImageFormat } from './raw-image';

type SharpModule = typeof import('sharp').default;

let sharpPromise: Promise<SharpModule> | undefined;
/** @internal Loads sharp lazily (Node only). */
export async function loadSharp(): Promise<SharpModule> {
  // Through require: sharp's CommonJS entry loads ~3x faster than its ES one (see loadNodePackage).
  sharpPromise ??= loadNodePackage<typeof import('sharp')>('sharp').then((m) => (m.default ?? m) as SharpModule);
  return sharpPromise;
}

/**
 * What an image's header says, read by the decoders before any pixel is decoded (see {@link DecodeOptions.onHeader}).
 *
 * @example
 * ```ts
 * const onHeader = (h: ImageHeader) => console.log(`${h.format} ${h.width}x${h.height}, ${h.pages} page(s)`);
 * ```
 */
export interface ImageHeader {
  /** Format detected by the decoder (`png`, `jpeg`, `webp`, `tiff`, `gif`, ...). */
  format: string;
  /** Size of one frame (or page), EXIF orientation applied. */
  width: number;
  height: number;
  /** Frames of an animation or pages of a multi-page file (1 for a still image). */
  pages: number;
  /** True for a GIF or WebP with more than one frame. */
  animated: boolean;
  /** Frames that are decoded: every frame of an animation with `frames: 'all'`, else 1. */
  frames: number;
}

/**
 * Options of the decoders ({@link decodeImage}, {@link decodeImageWithProfile}, {@link readImage}).
 *
 * @example
 * ```ts
 * const { image, animation } = await decodeImageWithProfile(bytes, 'clip.webp', { frames: 'all', maxPixels: 50e6 });
 * ```
 */
export interface DecodeOptions {
  /**
   * Refuse (InputError, `E_INPUT`) an image whose decoded pixels (width × height × decoded frames) are more than
   * this, from its header, before decoding anything. Default {@link DEFAULT_MAX_PIXELS} (268,402,689, sharp's
   * default); `Infinity` turns the check off.
   */
  maxPixels?: number;
  /**
   * {@link decodeImageWithProfile} only: `'all'` decodes every frame of an animated GIF or WebP, stacked top to
   * bottom (see {@link DecodedImage.animation}); `'first'` (default) decodes the first frame. Multi-page TIFFs
   * and other multi-image files always give their first page.
   */
  frames?: 'first' | 'all';
  /** Called with the header after the size check and before decoding; throw from it to refuse the image. */
  onHeader?: (header: ImageHeader) => void;
}

type Sharp = ReturnType<SharpModule>;

/**
 * Reads the header (sharp's `metadata()` decodes no pixel), checks the pixel limit, calls `onHeader`, and
 * returns the header with a sharp instance set up to decode what was checked.
 */
async function openChecked(
  sharp: SharpModule,
  bytes: Uint8Array,
  name: string,
  opts: DecodeOptions,
): Promise<{ header: ImageHeader; meta: Awaited<ReturnType<Sharp['metadata']>>; pipeline: Sharp }> {
  const max = resolveLimit(opts.maxPixels, DEFAULT_MAX_PIXELS, 'maxPixels');
  const meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  const format = meta.format ?? 'unknown';
  const pages = meta.pages ?? 1;
  const animated = (format === 'gif' || format === 'webp') && pages > 1;
  const frames = animated && opts.frames === 'all' ? pages : 1;
  const header: ImageHeader = { format, width, height, pages, animated, frames };
  checkInputPixels(name, width, height, frames, max);
  opts.onHeader?.(header);
  // sharp's own limit stays on as a second guard (it counts the same pixels: all decoded frames).
  const pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: max === Infinity ? false : max, pages: frames > 1 ? -1 : 1 });
  return { header, meta, pipeline };
}

/**
 * The plain-PNG path (see `png.ts`): decodes PNGs it handles without loading sharp, after the same pixel limit and
 * `onHeader` as sharp's path; undefined for any other file (and, with `profile: false`, for a PNG with an ICC
 * profile, whose pixels sharp converts to sRGB).
 */
async function decodePlainPng(bytes: Uint8Array, name: string, opts: DecodeOptions, profile: boolean): Promise<DecodedPng | undefined> {
  const parts = await parsePng(bytes);
  if (!parts || (parts.iccp && !profile)) return undefined;
  const max = resolveLimit(opts.maxPixels, DEFAULT_MAX_PIXELS, 'maxPixels');
  checkInputPixels(name, parts.width, parts.height, 1, max);
  opts.onHeader?.({ format: 'png', width: parts.width, height: parts.height, pages: 1, animated: false, frames: 1 });
  return decodePngParts(parts);
}

/**
 * Decodes an encoded image (PNG, JPEG, WebP, TIFF, GIF, AVIF, ...) into a {@link RawImage}. Node only (sharp;
 * plain PNGs without sharp, see `png.ts`).
 * EXIF orientation is applied. 16-bit PNGs stay 16-bit. The first frame of an animation or the first page of a
 * multi-page file is decoded. Images over `maxPixels` (default {@link DEFAULT_MAX_PIXELS}) are refused from
 * their header, before decoding.
 *
 * @throws InputError (naming `name`) for empty, corrupt, truncated, unsupported or too large images.
 * @example
 * ```ts
 * const img = await decodeImage(await fs.readFile('photo.jpg'), 'photo.jpg');
 * ```
 */
export async function decodeImage(bytes: Uint8Array, name = '<buffer>', opts: Omit<DecodeOptions, 'frames'> = {}): Promise<RawImage> {
  if (bytes.length === 0) throw new InputError('file is empty (0 bytes)', { file: name });
  const png = await decodePlainPng(bytes, name, opts, false);
  // As sharp's path gives them: 8-bit gray (with alpha) as RGB (RGBA), 16-bit gray as it is.
  if (png) return png.image.bits === 8 && png.image.channels <= 2 ? rgbFromGray(png.image) : png.image;
  const sharp = await loadSharp();
  try {
    const { meta, pipeline } = await openChecked(sharp, bytes, name, opts);
    const s = pipeline.rotate();
    const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
    const typed = sixteen ? s.toColourspace(meta.channels && meta.channels <= 2 ? 'grey16' : 'rgb16') : s;
    const { data, info } = await typed.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const arr = sixteen
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const img: RawImage = { data: arr, width: info.width, height: info.height, channels: info.channels as RawImage['channels'], bits: sixteen ? 16 : 8 };
    assertRawImage(img);
    return img;
  } catch (e) {
    if (e instanceof InputError || e instanceof ConfigError) throw e;
    throw new InputError(`cannot decode image (${(e as Error).message.split('\n')[0]})`, { file: name, cause: e });
  }
}

/**
 * Reads and decodes an image file (see {@link decodeImage}). Node only.
 *
 * @example
 * ```ts
 * const img = await readImage('../shared/data/Set5/HR/baby.png');
 * ```
 */
export async function readImage(file: string, opts: Omit<DecodeOptions, 'frames'> = {}): Promise<RawImage> {
  return decodeImage(await readFileBytes(file), file, opts);
}

/**
 * Reads an image the way MATLAB's `imread` does for the literature's protocol: the stored samples (no colour
 * conversion), gray kept gray. Channel count matters: a gray image (Set14's bridge.png) is scored on its gray
 * values, not on the Y of an RGB copy. Images over `maxPixels` (default 268,402,689) are refused from their header.
 */
export async function readImageAsStored(file: string, opts: { maxPixels?: number } = {}): Promise<RawImage> {
  return (await decodeImageWithProfile(await readFileBytes(file), file, { maxPixels: opts.maxPixels })).image;
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
  /**
   * WebP only: write the image as this animation, `animation.frames` equal frames stacked top to bottom
   * (e.g. {@link DecodedImage.animation}, with the image sharpened frame by frame).
   */
  animation?: AnimationInfo;
}

/**
 * Encodes a {@link RawImage} as PNG, JPEG or WebP. Node only (sharp; PNG without it). 16-bit images stay 16-bit in PNG and
 * are reduced to 8 bits for JPEG and WebP. With `icc`, that profile is embedded unchanged. With `animation`
 * (WebP), the frames stacked in `img` are written as an animated WebP with their delays and loop count.
 *
 * @example
 * ```ts
 * const png = await encodeImage(img, 'png');
 * ```
 */
export async function encodeImage(img: RawImage, format: ImageFormat = 'png', opts: EncodeOptions = {}): Promise<Uint8Array> {
  assertRawImage(img);
  if (img.data instanceof Uint16Array && format !== 'png') img = to8Bit(img);
  const anim = opts.animation && opts.animation.frames > 1 ? opts.animation : undefined;
  if (anim && format !== 'webp') throw new ConfigError(`an animation can be written as WebP only, not ${format}`);
  if (anim && img.height % anim.frames !== 0) throw new ConfigError(`an image ${img.height} rows high does not split into ${anim.frames} equal frames`);
  // PNG needs no sharp (see png.ts): the same pixels, written without loading libvips.
  if (format === 'png' && !anim) return encodePng(img, opts.icc);
  const sharp = await loadSharp();
  // sharp takes the sample depth from the typed array's class (Uint16Array -> ushort), so pass it as is. The pixels
  // are already in memory: sharp's input pixel limit (a guard against decoding bombs) does not apply.
  const raw = { width: img.width, height: img.height, channels: img.channels as 1 | 2 | 3 | 4, premultiplied: false, pageHeight: anim ? img.height / anim.frames : undefined };
  const s = sharp(img.data, { raw, limitInputPixels: false });
  const typed = img.data instanceof Uint16Array ? s.toColourspace(img.channels <= 2 ? 'grey16' : 'rgb16') : img.channels <= 2 ? s.toColourspace('b-w') : s;
  const timing = anim ? { loop: anim.loop ?? 0, ...(anim.delay?.length === anim.frames ? { delay: anim.delay } : {}) } : {};
  const out =
    format === 'png' ? typed.png() : format === 'jpeg' ? typed.jpeg({ quality: opts.quality ?? 92 }) : typed.webp({ quality: opts.quality ?? 92, ...timing });
  const bytes = new Uint8Array(await out.toBuffer());
  if (!opts.icc || opts.icc.length === 0) return bytes;
  const { embedIccProfile } = await import('./icc-profile');
  return embedIccProfile(bytes, format, opts.icc, { width: img.width, height: raw.pageHeight ?? img.height, alpha: img.channels === 2 || img.channels === 4 });
}

/** Replicates the gray of an 8-bit gray (+ alpha) image into RGB (+ alpha). */
function rgbFromGray(img: RawImage): RawImage {
  const c = img.channels;
  const out = c + 2;
  const n = img.width * img.height;
  const d = new Uint8Array(n * out);
  for (let i = 0; i < n; i++) {
    const v = img.data[i * c];
    d[i * out] = d[i * out + 1] = d[i * out + 2] = v;
    if (c === 2) d[i * out + 3] = img.data[i * c + 1];
  }
  return { ...img, data: d, channels: out as 3 | 4 };
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
  /** Frames or pages in the file (1 for a still image); only the first is decoded unless `animation` is set. */
  pages: number;
  /**
   * Set when every frame of an animation was decoded (`frames: 'all'`): `image` holds the frames stacked top to
   * bottom, each `image.height / animation.frames` rows high.
   */
  animation?: AnimationInfo;
}

/**
 * The frames of an animated image and their timing, as read from a GIF or WebP and written back by
 * {@link encodeImage} (WebP).
 *
 * @example
 * ```ts
 * const animation: AnimationInfo = { frames: 12, delay: new Array(12).fill(80), loop: 0 };
 * ```
 */
export interface AnimationInfo {
  /** Number of frames (the image is `frames` equal frames stacked vertically). */
  frames: number;
  /** Display time of each frame in ms. */
  delay?: number[];
  /** Times the animation plays; 0 = forever. */
  loop?: number;
}

/**
 * Decodes an encoded image for processing that must round-trip: EXIF orientation applied, pixels left in the
 * file's colour space (not converted to sRGB) with the ICC profile returned, gray kept gray (1 or 2 channels),
 * 16-bit kept 16-bit, alpha kept. Node only (sharp). CMYK images are converted to sRGB (no profile returned).
 * Images over `maxPixels` (default {@link DEFAULT_MAX_PIXELS}) are refused from their header, before decoding.
 * Animated GIF / WebP: the first frame, or with `frames: 'all'` every frame (`animation`). Multi-page files
 * (TIFF, ...): the first page; `pages` tells how many there are.
 *
 * @throws InputError (naming `name`) for empty, corrupt, truncated, unsupported or too large images.
 * @example
 * ```ts
 * const { image, icc } = await decodeImageWithProfile(await fs.readFile('in.png'), 'in.png');
 * await writeImage('out.png', process(image), { icc });
 * ```
 */
export async function decodeImageWithProfile(bytes: Uint8Array, name = '<buffer>', opts: DecodeOptions = {}): Promise<DecodedImage> {
  if (bytes.length === 0) throw new InputError('file is empty (0 bytes)', { file: name });
  const png = await decodePlainPng(bytes, name, opts, true);
  if (png) return { image: png.image, icc: png.icc, format: 'png', pages: 1 };
  const sharp = await loadSharp();
  try {
    const { header, meta, pipeline } = await openChecked(sharp, bytes, name, opts);
    const cmyk = meta.space === 'cmyk';
    let s = pipeline.rotate();
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
    const animation: AnimationInfo | undefined =
      header.frames > 1 ? { frames: header.frames, delay: meta.delay?.slice(0, header.frames), loop: meta.loop } : undefined;
    if (animation && image.height !== header.height * header.frames) {
      throw new InputError(`cannot split the ${image.width}x${image.height} decode into ${header.frames} frames of ${header.width}x${header.height}`, { file: name });
    }
    return { image, icc: !cmyk && meta.icc ? new Uint8Array(meta.icc) : undefined, format: header.format, pages: header.pages, animation };
  } catch (e) {
    if (e instanceof InputError || e instanceof ConfigError) throw e;
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
