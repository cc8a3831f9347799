/** Size of the SSIM window (MATLAB's `fspecial('gaussian', 11, 1.5)`). */
export const SSIM_WINDOW = 11;
/** Standard deviation of the SSIM window. */
export const SSIM_SIGMA = 1.5;

/**
 * Normalised 1-D Gaussian of `size` taps; the 2-D SSIM window is its outer product (the 2-D normalisation
 * factorises, so separable filtering is exact).
 *
 * @example
 * ```ts
 * const g = gaussianWindow1d(); // 11 taps summing to 1
 * ```
 */
export function gaussianWindow1d(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += g[i];
  }
  for (let i = 0; i < size; i++) g[i] /= sum;
  return g;
}
