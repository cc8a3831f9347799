/**
 * What {@link Student.sharpen} accepts and returns: file paths and URLs, encoded bytes, `ImageData`,
 * {@link RawImage}s and tensors. Each becomes a {@link RawImage} of its own sample type (a tensor: float32); the result
 * goes back to the same kind,
 * or to encoded bytes when a format is asked for.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { isTfTensor, tfCore } from '../backends/tf-lazy';
import { InputError, ShapeError, type SharpenWarning } from '../errors';
import { imageDataToRaw, isImageDataLike, rawToImageData, type ImageDataLike } from '../io/browser-image';
import type { AnimationInfo, ImageFormat, ImageHeader } from '../io/node-image';
import { checkOutputPixels } from '../io/pixel-limits';
import { imageFrom, isFloatSamples, isRawImage, sampleBits, type ImageSamples, type RawImage } from '../io/raw-image';
import { currentPlatform } from '../platform/current';

/**
 * An image {@link Student.sharpen} accepts: a file path (Node) or URL, encoded bytes (PNG, JPEG, WebP, ...),
 * an `ImageData`, a {@link RawImage} (integer or float samples), or a `[H, W, C]` float tensor in [0, 1] (C = 3; 1, 2
 * and 4 work too).
 *
 * @example
 * ```ts
 * const inputs: SharpenInput[] = ['photo.jpg', await fs.readFile('photo.jpg'), tf.zeros([64, 64, 3])];
 * ```
 */
export type SharpenInput = string | URL | Uint8Array | ArrayBuffer | ImageDataLike | RawImage<ImageSamples> | tf.Tensor3D;

/** The kind of an input, which is also the kind of the output. */
export type InputKind = 'encoded' | 'imagedata' | 'raw' | 'tensor';

/** A decoded input. */
export interface LoadedInput {
  kind: InputKind;
  pixels: RawImage<ImageSamples>;
  /** Name for messages (file path, URL or a placeholder). */
  name: string;
  /** ICC profile of an encoded input, kept on output. */
  icc?: Uint8Array;
  /** Format of an encoded input. */
  format?: string;
  /** Bits per sample of the source (8 or 16). */
  bits: 8 | 16;
  /** Every frame of an animated input, stacked top to bottom in `pixels` (Node, encoded GIF / WebP). */
  animation?: AnimationInfo;
}

/** How {@link loadInput} decodes and checks an input. */
export interface LoadOptions {
  /** Cap on the decoded pixels of an encoded input, checked from its header (see `DecodeOptions.maxPixels`). */
  maxPixels?: number;
  /** With `scale`: cap on the output pixels (input pixels × scale², all frames), checked before decoding. */
  maxOutputPixels?: number;
  scale?: number;
  /**
   * The output format asked for, if any. Every frame of an animated GIF / WebP is decoded unless it is PNG or
   * JPEG (one frame): then only the first is, with a warning.
   */
  format?: ImageFormat;
  onWarning?: (w: SharpenWarning) => void;
}

function checkSize(width: number, height: number, name: string): void {
  if (!(width > 0 && height > 0)) throw new InputError(`image is empty (${width}x${height})`, { file: name });
}

/** Decodes encoded bytes: sharp in Node (keeps ICC, gray, 16-bit, animations), the browser's decoders elsewhere. */
export async function decodeBytes(bytes: Uint8Array, name: string, opts: LoadOptions = {}): Promise<LoadedInput> {
  const oneFrame = opts.format === 'png' || opts.format === 'jpeg';
  let warning: SharpenWarning | undefined;
  const d = await currentPlatform().decodeImage(bytes, name, {
    maxPixels: opts.maxPixels,
    frames: oneFrame ? 'first' : 'all',
    onHeader: (h) => {
      if (opts.scale !== undefined) checkOutputPixels(name, h.width, h.height, h.frames, opts.scale, opts.maxOutputPixels);
      if (h.pages > h.frames) warning = firstFrameWarning(name, h, opts.format);
    },
  });
  if (warning) opts.onWarning?.(warning);
  return { kind: 'encoded', pixels: d.image, name, icc: d.icc, format: d.format, bits: sampleBits(d.image.data) ?? 8, animation: d.animation };
}

function firstFrameWarning(name: string, h: ImageHeader, format: ImageFormat | undefined): SharpenWarning {
  const message = h.animated
    ? `${name}: animated ${h.format.toUpperCase()} with ${h.pages} frames: only the first is sharpened, as ${(format ?? 'png').toUpperCase()} holds one frame (--format webp / format: 'webp' keeps every frame)`
    : `${name}: ${h.format.toUpperCase()} with ${h.pages} pages: only the first page is sharpened`;
  return { code: 'W_FIRST_FRAME', message, file: name };
}

/**
 * Turns any {@link SharpenInput} into pixels, checking the pixel limits of `opts` (encoded inputs: from the header,
 * before decoding).
 *
 * @throws InputError for unreadable, empty, undecodable or too large inputs; ShapeError for tensors of the wrong rank.
 */
export async function loadInput(input: SharpenInput, name?: string, opts: LoadOptions = {}): Promise<LoadedInput> {
  const loaded = await loadAny(input, name, opts);
  if (opts.scale !== undefined) {
    const frames = loaded.animation?.frames ?? 1;
    checkOutputPixels(loaded.name, loaded.pixels.width, loaded.pixels.height / frames, frames, opts.scale, opts.maxOutputPixels);
  }
  return loaded;
}

async function loadAny(input: SharpenInput, name: string | undefined, opts: LoadOptions): Promise<LoadedInput> {
  if (typeof input === 'string' || input instanceof URL) {
    const n = name ?? (input instanceof URL ? input.href : input);
    return decodeBytes(await currentPlatform().readBytes(input, n), n, opts);
  }
  if (isTfTensor(input)) {
    const n = name ?? '<tensor>';
    if (input.rank !== 3) throw new ShapeError(`expected a [H, W, C] image tensor, got shape [${input.shape.join(', ')}]`);
    const [h, w, c] = input.shape;
    checkSize(w, h, n);
    if (c < 1 || c > 4) throw new ShapeError(`expected 1 to 4 channels, got shape [${input.shape.join(', ')}]`);
    const tf = input.dtype === 'float32' ? undefined : await tfCore();
    const cast = tf?.cast(input, 'float32');
    const data = (await (cast ?? input).data()) as Float32Array;
    cast?.dispose();
    return { kind: 'tensor', pixels: { data, width: w, height: h, channels: c as 1 | 2 | 3 | 4 }, name: n, bits: 8 };
  }
  if (isImageDataLike(input)) {
    const n = name ?? '<ImageData>';
    checkSize(input.width, input.height, n);
    return { kind: 'imagedata', pixels: imageDataToRaw(input), name: n, bits: 8 };
  }
  if (isRawImage(input)) {
    const n = name ?? '<RawImage>';
    checkSize(input.width, input.height, n);
    return { kind: 'raw', pixels: input, name: n, bits: sampleBits(input.data) ?? 8 };
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
    return decodeBytes(bytes, name ?? '<buffer>', opts);
  }
  throw new InputError('unsupported input: pass a file path, URL, encoded bytes, ImageData, RawImage or [H, W, C] tensor');
}

/** An integer image as a `Uint8Array` / `Uint16Array` {@link RawImage} with `bits` set, sharing its samples. */
export function integerImage(p: RawImage<ImageSamples>): RawImage {
  if (isFloatSamples(p.data)) throw new Error('internal: float samples where integer ones were expected');
  const data = p.data instanceof Uint8ClampedArray ? new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength) : p.data;
  return imageFrom(data, p.width, p.height, p.channels);
}

/**
 * Picks the output format of an encoded result: the asked one, else WebP for an animation (the animated format
 * written), else the input's if it can be written, else PNG.
 */
export function outputFormat(asked: ImageFormat | undefined, inputFormat: string | undefined, animated = false): ImageFormat {
  if (asked) return asked;
  if (animated) return 'webp';
  if (inputFormat === 'jpeg' || inputFormat === 'webp' || inputFormat === 'png') return inputFormat;
  return 'png';
}

/** Encodes pixels to bytes (Node: sharp with the ICC profile kept; browsers: OffscreenCanvas). */
export async function encodePixels(
  p: RawImage<ImageSamples>,
  format: ImageFormat,
  opts: { quality?: number; icc?: Uint8Array; animation?: AnimationInfo } = {},
): Promise<Uint8Array> {
  return currentPlatform().encodeImage(integerImage(p), format, opts);
}

/** Converts output pixels back to the input's kind (`encoded` is handled by {@link encodePixels}). */
export async function toKind(kind: Exclude<InputKind, 'encoded'>, p: RawImage<ImageSamples>): Promise<tf.Tensor3D | ImageDataLike | RawImage<ImageSamples>> {
  if (kind === 'tensor') return (await tfCore()).tensor3d(p.data instanceof Float32Array ? p.data : Float32Array.from(p.data), [p.height, p.width, p.channels]);
  if (kind === 'imagedata') return rawToImageData(integerImage(p));
  return isFloatSamples(p.data) ? p : integerImage(p);
}
