/**
 * Image IO in browsers (and web workers): `ImageData` <-> {@link RawImage}, decoding encoded bytes with
 * `createImageBitmap` and encoding with `OffscreenCanvas`. No Node APIs; 8-bit RGBA only (what canvases hold).
 */
import { BackendError, InputError } from '../errors';
import { sampleMax, type ImageFormat, type RawImage } from './raw-image';

/**
 * The shape of a DOM `ImageData`: RGBA, 8 bits per sample. Anything with these fields is accepted, so
 * code that runs outside browsers (tests, Node canvases) can use it too.
 *
 * @example
 * ```ts
 * const img: ImageDataLike = ctx.getImageData(0, 0, canvas.width, canvas.height);
 * ```
 */
export interface ImageDataLike {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * True for an `ImageData` or an {@link ImageDataLike} object (RGBA `Uint8ClampedArray` of `width · height · 4`).
 *
 * @example
 * ```ts
 * if (isImageDataLike(x)) console.log(x.width, x.height);
 * ```
 */
export function isImageDataLike(x: unknown): x is ImageDataLike {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<ImageDataLike>;
  return o.data instanceof Uint8ClampedArray && typeof o.width === 'number' && typeof o.height === 'number' && !('channels' in o)
    && o.data.length === o.width * o.height * 4;
}

/**
 * Views an `ImageData` as a 4-channel 8-bit {@link RawImage} (no copy).
 *
 * @example
 * ```ts
 * const raw = imageDataToRaw(ctx.getImageData(0, 0, w, h));
 * ```
 */
export function imageDataToRaw(img: ImageDataLike): RawImage {
  return { data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height, channels: 4, bits: 8 };
}

/**
 * Converts a {@link RawImage} to RGBA 8-bit: a DOM `ImageData` where the constructor exists, otherwise a
 * plain {@link ImageDataLike}. Gray is replicated, missing alpha is opaque, 16-bit is rounded to 8-bit.
 *
 * @example
 * ```ts
 * ctx.putImageData(rawToImageData(raw) as ImageData, 0, 0);
 * ```
 */
export function rawToImageData(raw: RawImage): ImageDataLike {
  const { width, height, channels: c, data } = raw;
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  const k = 255 / sampleMax(raw.data);
  for (let i = 0; i < n; i++) {
    const s = i * c;
    const o = i * 4;
    if (c >= 3) {
      out[o] = data[s] * k;
      out[o + 1] = data[s + 1] * k;
      out[o + 2] = data[s + 2] * k;
    } else {
      const v = data[s] * k;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
    out[o + 3] = c === 2 || c === 4 ? data[s + c - 1] * k : 255;
  }
  const Ctor = (globalThis as { ImageData?: new (d: Uint8ClampedArray, w: number, h: number) => ImageDataLike }).ImageData;
  return Ctor ? new Ctor(out, width, height) : { data: out, width, height };
}

function canvas(width: number, height: number): OffscreenCanvas {
  if (typeof OffscreenCanvas === 'undefined') {
    throw new BackendError('OffscreenCanvas is not available here: decode images in Node with sharp (decodeImage) or pass ImageData');
  }
  return new OffscreenCanvas(width, height);
}

/**
 * Decodes encoded bytes (any format the browser supports) to an RGBA {@link RawImage}, applying EXIF orientation.
 *
 * @throws InputError when the browser cannot decode the bytes.
 * @example
 * ```ts
 * const raw = await decodeImageBrowser(new Uint8Array(await file.arrayBuffer()), file.name);
 * ```
 */
export async function decodeImageBrowser(bytes: Uint8Array, name = '<buffer>'): Promise<RawImage> {
  if (bytes.length === 0) throw new InputError('file is empty (0 bytes)', { file: name });
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw new InputError(`cannot decode image (${(e as Error).message})`, { file: name, cause: e });
  }
  try {
    const c = canvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    return imageDataToRaw(ctx.getImageData(0, 0, bitmap.width, bitmap.height));
  } finally {
    bitmap.close();
  }
}

/**
 * Encodes a {@link RawImage} as PNG, JPEG or WebP bytes with an `OffscreenCanvas` (8-bit RGBA).
 *
 * @example
 * ```ts
 * const png = await encodeImageBrowser(raw, 'png');
 * ```
 */
export async function encodeImageBrowser(raw: RawImage, format: ImageFormat = 'png', opts: { quality?: number } = {}): Promise<Uint8Array> {
  const img = rawToImageData(raw);
  const c = canvas(img.width, img.height);
  c.getContext('2d')!.putImageData(new ImageData(img.data as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
  const blob = await c.convertToBlob({ type: `image/${format}`, quality: (opts.quality ?? 92) / 100 });
  return new Uint8Array(await blob.arrayBuffer());
}
