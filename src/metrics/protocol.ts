/**
 * The super-resolution literature's evaluation protocol, in one place. Every score sharpen-kd reports goes through
 * it: `sharpen-kd eval` and `evaluateStudent`, validation during training, and `sharpen-kd score`.
 *
 * 1. The HR image is reduced to 8 bits and mod-cropped to a multiple of the scale ({@link protocolReference}).
 * 2. The model's input is made from its 8-bit RGB version (gray replicated, alpha dropped): at scale > 1 MATLAB-style
 *    bicubic downscaling with antialiasing, rounded to uint8 ({@link bicubicInput}); at scale 1 one of the ×1
 *    protocols of `data/x1-protocol.ts`.
 * 3. The output, rounded to 8 bits, is scored on the BT.601 Y channel with `scale` pixels cropped from each border;
 *    SSIM uses an 11×11 Gaussian window, σ = 1.5 ({@link scoreImage}). A gray HR image (Set14's `bridge.png`) is
 *    scored on its own gray values, as the literature's MATLAB scripts do; the model's RGB output is reduced to
 *    luma for that comparison (`metrics/y-channel.ts`).
 */
import { fromFloatRgb, toFloatRgb, type RawImage } from '../io/raw-image';
import type { MetricImage } from './metric-input';
import { modCrop } from './mod-crop';
import { psnr } from './psnr';
import { resizeBicubic } from './resize-bicubic';
import { ssim } from './ssim';

/**
 * An HR image prepared for the protocol.
 *
 * @example
 * ```ts
 * const { rgb, target } = protocolReference(await readImage('Set14/HR/bridge.png'), 4);
 * // rgb: 8-bit RGB, mod-cropped (the model's input is made from it); target: the gray plane that is scored
 * ```
 */
export interface ProtocolReference {
  /** 8-bit RGB, mod-cropped to a multiple of the scale: what the model's input is made from. */
  rgb: RawImage;
  /** What outputs are scored against: `rgb`, or for a gray HR image its 8-bit gray plane. */
  target: RawImage;
}

/**
 * Step 1 of the protocol: the HR image as 8-bit RGB, mod-cropped, and the reference outputs are scored against.
 *
 * @example
 * ```ts
 * const ref = protocolReference(hr, 4);
 * const lr = bicubicInput(ref.rgb, 4);
 * ```
 */
export function protocolReference(hr: RawImage, scale: number): ProtocolReference {
  const rgb8 = hr.data instanceof Uint8Array && hr.channels === 3 ? hr : fromFloatRgb(toFloatRgb(hr), hr.width, hr.height, 8);
  const rgb = modCrop(rgb8, scale);
  return { rgb, target: hr.channels < 3 ? firstChannel(rgb) : rgb };
}

/**
 * Step 2 at scale > 1: the LR input, MATLAB-style bicubic downscaling by `scale` with antialiasing, rounded to the
 * image's bit depth.
 *
 * @example
 * ```ts
 * const lr = bicubicInput(protocolReference(hr, 4).rgb, 4);
 * ```
 */
export function bicubicInput(hr: RawImage, scale: number): RawImage {
  return resizeBicubic(hr, 1 / scale);
}

/**
 * One image's scores: Y-PSNR (dB) and Y-SSIM.
 *
 * @example
 * ```ts
 * const s: ImageScores = { psnr: 31.2, ssim: 0.88 };
 * ```
 */
export interface ImageScores {
  psnr: number;
  ssim: number;
}

/**
 * Step 3: scores an output against the protocol's `target` (from {@link protocolReference}): rounded to 8 bits,
 * BT.601 Y, `crop` border pixels removed (default `scale`). `yChannel: false` scores every channel instead.
 *
 * @example
 * ```ts
 * const { psnr, ssim } = await scoreImage(sr, ref.target, 4);
 * ```
 */
export async function scoreImage(sr: MetricImage, target: MetricImage, scale: number, opts: { crop?: number; yChannel?: boolean } = {}): Promise<ImageScores> {
  const m = { yChannel: opts.yChannel ?? true, crop: opts.crop ?? scale, quantize: true };
  return { psnr: await psnr(sr, target, m), ssim: await ssim(sr, target, m) };
}

/**
 * Means over images, the figure papers report for a test set.
 *
 * @example
 * ```ts
 * const { psnr } = meanScores(report.images);
 * ```
 */
export function meanScores(images: readonly ImageScores[]): ImageScores {
  const mean = (k: keyof ImageScores) => images.reduce((a, r) => a + r[k], 0) / images.length;
  return { psnr: mean('psnr'), ssim: mean('ssim') };
}

/** The first channel of an 8-bit image, as a gray image (R of a gray image replicated to RGB is the gray). */
function firstChannel(img: RawImage): RawImage {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i * img.channels];
  return { data, width: img.width, height: img.height, channels: 1, bits: 8 };
}
