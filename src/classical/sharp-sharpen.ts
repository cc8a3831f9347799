/**
 * sharp's `sharpen()` (libvips unsharp masking) as a ×1 baseline, with its defaults or with parameters tuned on the
 * training sets. Node only.
 */
import { ConfigError } from '../errors';
import { loadSharp } from '../io/node-image';
import type { RawImage } from '../io/raw-image';

/**
 * Parameters of sharp's `sharpen({ sigma, m1, m2, x1, y2, y3 })`: σ of the Gaussian mask, the gain in flat (`m1`)
 * and jagged (`m2`) areas, the flat / jagged threshold `x1`, and the caps on brightening (`y2`) and darkening (`y3`).
 * Omitted fields take sharp's defaults (m1 1, m2 2, x1 2, y2 10, y3 20).
 *
 * @example
 * ```ts
 * const p: SharpSharpenParams = { sigma: 1.5, m1: 0.5, m2: 3 };
 * ```
 */
export interface SharpSharpenParams {
  sigma: number;
  m1?: number;
  m2?: number;
  x1?: number;
  y2?: number;
  y3?: number;
}

/**
 * sharp `sharpen()` parameters for the blind ×1 benchmark, chosen by `npx tsx lab/scripts/tune-x1-baselines.ts` (a grid
 * search of sigma, m1, m2 and the y2 / y3 caps for the best mean Y-PSNR on 128-pixel crops of T91, BSDS200, Kodak24
 * and McMaster degraded with the blind distribution; see the script for the grid and the crops).
 *
 * @example
 * ```ts
 * const restored = await sharpSharpen(blurred, SHARP_SHARPEN_X1);
 * ```
 */
export const SHARP_SHARPEN_X1: Readonly<SharpSharpenParams> = Object.freeze({ sigma: 1.5, m1: 1, m2: 0.5, y2: 40, y3: 40 });

/**
 * Sharpens an 8-bit image with sharp's `sharpen()`: with `'default'`, the call without arguments (a fast, mild
 * 3×3 sharpen); with parameters, the unsharp mask on the L channel in LAB. Alpha is kept, gray stays gray.
 *
 * @throws ConfigError for a 16-bit image, bad parameters, or when sharp is not installed.
 * @example
 * ```ts
 * const a = await sharpSharpen(img, 'default');
 * const b = await sharpSharpen(img, SHARP_SHARPEN_X1);
 * ```
 */
export async function sharpSharpen(img: RawImage, params: SharpSharpenParams | 'default' = 'default'): Promise<RawImage> {
  if (!(img.data instanceof Uint8Array)) throw new ConfigError('sharpSharpen takes 8-bit images');
  if (params !== 'default') {
    const bad = Object.entries(params).find(([k, v]) => v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0 && (k !== 'sigma' || (v >= 0.000001 && v <= 10))));
    if (bad) throw new ConfigError(`sharpen parameter ${bad[0]} must be a finite number ≥ 0 (sigma in [0.000001, 10]), got ${bad[1]}`);
  }
  let sharp: Awaited<ReturnType<typeof loadSharp>>;
  try {
    sharp = await loadSharp();
  } catch (e) {
    throw new ConfigError('sharpSharpen needs sharp (Node.js)', { cause: e });
  }
  const src = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  const op = params === 'default' ? src.sharpen() : src.sharpen({ ...params });
  const { data, info } = await op.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== img.width || info.height !== img.height || info.channels !== img.channels) {
    throw new ConfigError(`sharp returned ${info.width}x${info.height}x${info.channels} for a ${img.width}x${img.height}x${img.channels} image`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: img.width, height: img.height, channels: img.channels, bits: 8 };
}
