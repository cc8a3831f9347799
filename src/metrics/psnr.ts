import { pairPlanes, type MetricImage, type MetricOptions, type PlanePair } from './metric-input';

/** @internal PSNR (dB, 255 scale) of one plane pair; the squared error is accumulated in float64. */
export function psnrOfPair(p: PlanePair): number {
  let sum = 0;
  let count = 0;
  for (let c = 0; c < p.a.length; c++) {
    const a = p.a[c];
    const b = p.b[c];
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      sum += d * d;
    }
    count += a.length;
  }
  const mse = sum / count;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/**
 * Peak signal-to-noise ratio in dB, computed the way super-resolution papers do: images on the 255 scale,
 * optionally the BT.601 Y channel (`yChannel`) with `crop` border pixels removed, MSE over all remaining
 * samples accumulated in float64 (never in float32 tensors). Returns `Infinity` for identical images.
 * A batch (`[N, H, W, C]`) returns the mean of the per-image PSNRs, as the literature averages over a test set.
 *
 * Inputs: tensors in [0, 1] (`[H, W, C]` or `[N, H, W, C]`) or {@link RawImage}s of any sample type (8/16-bit, float);
 * 1-channel (gray) and 3-channel images, alpha ignored. Pass `quantize: true` to score float outputs after
 * rounding to 8 bits, as they would be once saved as PNG.
 *
 * @example
 * ```ts
 * const db = await psnr(sr, hr, { yChannel: true, crop: 4 }); // Y-PSNR of a x4 result, as in the papers
 * const rgb = await psnr(await readImage('a.png'), await readImage('b.png'));
 * ```
 */
export async function psnr(a: MetricImage, b: MetricImage, opts: MetricOptions = {}): Promise<number> {
  const pairs = await pairPlanes(a, b, opts);
  let total = 0;
  for (const p of pairs) total += psnrOfPair(p);
  return total / pairs.length;
}
