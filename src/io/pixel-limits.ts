/**
 * Size limits checked from an image's header before its pixels are decoded, so that a small file that claims a
 * huge size (a decompression bomb: a 3.5 MB PNG of 60000×60000 gray pixels) is refused instead of allocating
 * gigabytes. Browser-safe (no Node imports).
 */
import { ConfigError, InputError } from '../errors';

/**
 * Default cap on the decoded pixels of an input image: 268,402,689 (0x3FFF × 0x3FFF, sharp's own default),
 * e.g. 16383×16383 or 23170×11585. Raise it with `maxPixels` / `--max-pixels`.
 *
 * @example
 * ```ts
 * await decodeImage(bytes, 'scan.tif', { maxPixels: 2 * DEFAULT_MAX_PIXELS });
 * ```
 */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;

/**
 * Default cap on the pixels of a sharpened output (input pixels × scale², all frames): 268,402,689, the same
 * number. At ×4 that is a 4096×4096 input (16384×16384 out), about 0.8 GB of 8-bit RGB before encoding. Raise it
 * with `maxOutputPixels` / `--max-output-pixels`.
 *
 * @example
 * ```ts
 * await student.sharpen('big.png', { maxOutputPixels: 4 * DEFAULT_MAX_OUTPUT_PIXELS });
 * ```
 */
export const DEFAULT_MAX_OUTPUT_PIXELS = 0x3fff * 0x3fff;

/** @internal Resolves a limit option: a positive integer, or `Infinity` for no limit. */
export function resolveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (value === Infinity || (Number.isSafeInteger(value) && value > 0)) return value;
  throw new ConfigError(`${name} must be a positive integer (or Infinity for no limit), got ${value}`);
}

/** `W×H`, with ` × N frames` for a stack of frames. */
function dims(width: number, height: number, frames: number): string {
  return `${width}×${height}${frames > 1 ? ` × ${frames} frames` : ''}`;
}

/**
 * @internal Throws an {@link InputError} (naming `file`, if given) when `width × height × frames` (one frame's size) is over
 * `maxPixels` (default {@link DEFAULT_MAX_PIXELS}).
 */
export function checkInputPixels(file: string | undefined, width: number, height: number, frames: number, maxPixels?: number): void {
  const max = resolveLimit(maxPixels, DEFAULT_MAX_PIXELS, 'maxPixels');
  const pixels = width * height * frames;
  if (pixels > max) {
    throw new InputError(`${pixels} pixels (${dims(width, height, frames)}) is over the limit of ${max} (--max-pixels / maxPixels)`, { file });
  }
}

/**
 * @internal Throws an {@link InputError} (naming `file`, if given) when the output of a `width × height` input (× frames)
 * upscaled by `scale` has more than `maxOutputPixels` (default {@link DEFAULT_MAX_OUTPUT_PIXELS}).
 */
export function checkOutputPixels(file: string | undefined, width: number, height: number, frames: number, scale: number, maxOutputPixels?: number): void {
  const max = resolveLimit(maxOutputPixels, DEFAULT_MAX_OUTPUT_PIXELS, 'maxOutputPixels');
  const pixels = width * scale * height * scale * frames;
  if (pixels > max) {
    throw new InputError(
      `the x${scale} output would be ${pixels} pixels (${dims(width * scale, height * scale, frames)}), over the limit of ${max} (--max-output-pixels / maxOutputPixels)`,
      { file },
    );
  }
}

/** Largest width or height each output format can hold (libwebp: 16383; libjpeg: 65500). */
const MAX_SIDE: Record<string, [string, number]> = { webp: ['WebP', 16383], jpeg: ['JPEG', 65500] };

/**
 * @internal Throws an {@link InputError} (naming `file`, if given) when a `width × height` output (one frame) is
 * larger than `format` can hold, so that the file fails before the work rather than at encoding.
 */
export function checkFormatSize(file: string | undefined, format: string, width: number, height: number): void {
  const [name, max] = MAX_SIDE[format] ?? [format, Infinity];
  if (width > max || height > max) {
    throw new InputError(`the ${width}×${height} output is too large for ${name} (at most ${max} pixels a side): use --format png / format: 'png'`, { file });
  }
}
