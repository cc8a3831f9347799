/**
 * Classical deconvolution, the reference the ×1 students are measured against: a regularised Wiener filter
 * (constrained least squares with a gradient prior) in the Fourier domain, on the luma plane.
 *
 *     X(u, v) = conj(K)·Y / (|K|² + λ·|D|²),   |D|² = 4 sin²(πu/N) + 4 sin²(πv/M)
 *
 * `K` is the transfer function of the blur (Gaussian taps as `gaussianTaps`, optionally after a motion kernel as
 * `motionKernel`: the degradations of `data/degrade.ts`), `|D|²` the spectrum of the horizontal and vertical
 * finite differences. The image is padded by mirroring first (half-sample symmetric, as the degradations pad, at
 * least 32 pixels on every side, up to a power-of-two size), so that the circular convolution of the FFT matches the
 * blur at the borders.
 *
 * The regulariser λ grows with the noise: `λ = λ₀ + c·σ̂²`, with σ̂ estimated from the image (Immerkaer's
 * Laplacian-difference estimator, 8-bit levels); λ₀ and c are {@link WIENER_X1}, tuned on degraded training crops.
 *
 * Blind deconvolution (`blind.ts`: `blindDeconvolve`) estimates a Gaussian σ from the edges of the image first
 * (`estimateBlurSigma`: the re-blur gradient ratio) and then runs the same filter.
 *
 * Colour: the full-range BT.601 luma `L = 0.299 R + 0.587 G + 0.114 B` is deconvolved and the correction `L' − L`
 * added to R, G and B alike, which changes Y and leaves the chroma of the input. A gray image is its own luma.
 */
import { ConfigError } from '../errors';
import { gaussianTaps, motionKernel } from '../data/blur';
import { reflectIndex } from '../data/pixels';
import { sampleMax, type RawImage } from '../io/raw-image';
import { fft2d } from './fft';

/**
 * A blur to undo: a Gaussian of standard deviation `sigma` (pixels; 0 = none), after an optional linear motion
 * blur (`length` pixels at `angle` radians), as the degradation pipeline applies them.
 *
 * @example
 * ```ts
 * const k: BlurKernel = { sigma: 1.2, motion: { length: 7, angle: Math.PI / 4 } };
 * ```
 */
export interface BlurKernel {
  sigma: number;
  motion?: { length: number; angle: number } | null;
}

/**
 * The regularisation of the Wiener filter: `λ = lambda0 + noiseGain·σ̂²`, σ̂ the estimated noise in 8-bit levels.
 * Values chosen by `npx tsx lab/scripts/tune-x1-baselines.ts` (grid search on degraded training crops, see that script).
 *
 * @example
 * ```ts
 * const lambda = WIENER_X1.lambda0 + WIENER_X1.noiseGain * 2 ** 2; // for noise σ = 2 levels
 * ```
 */
export const WIENER_X1 = { lambda0: 0.02, noiseGain: 0.003 } as const;

/**
 * Options of {@link wienerDeconvolve} and `blindDeconvolve`.
 *
 * @example
 * ```ts
 * const o: DeconvolveOptions = { lambda: 0.003 };
 * ```
 */
export interface DeconvolveOptions {
  /** Regularisation weight λ (default: from the estimated noise with {@link WIENER_X1}). */
  lambda?: number;
  /** `{ lambda0, noiseGain }` of the default λ (default {@link WIENER_X1}). */
  regularisation?: { lambda0: number; noiseGain: number };
}

/** Full-range BT.601 luma weights (sum 1). */
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * The luma plane of an 8-bit image on the 255 scale (a gray image's own plane).
 *
 * @example
 * ```ts
 * const y = lumaPlane(img); // Float64Array of width·height
 * ```
 */
export function lumaPlane(img: RawImage): Float64Array {
  const n = img.width * img.height;
  const c = img.channels;
  const d = img.data;
  const k = 255 / sampleMax(img.data);
  const out = new Float64Array(n);
  if (c < 3) {
    for (let i = 0; i < n; i++) out[i] = d[i * c] * k;
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = (LUMA[0] * d[i * c] + LUMA[1] * d[i * c + 1] + LUMA[2] * d[i * c + 2]) * k;
  return out;
}

/**
 * @internal Adds `delta` (luma change, 255 scale, one value per pixel) to every colour channel of an 8-bit image,
 * rounding and clamping; alpha is kept.
 *
 * @example
 * ```ts
 * const out = addToColour(img, delta);
 * ```
 */
export function addToColour(img: RawImage, delta: Float64Array): RawImage {
  if (!(img.data instanceof Uint8Array)) throw new ConfigError('deconvolution works on 8-bit images');
  const c = img.channels;
  const cc = c >= 3 ? 3 : 1;
  const out = new Uint8Array(img.data.length);
  out.set(img.data);
  for (let i = 0; i < delta.length; i++) {
    for (let k = 0; k < cc; k++) {
      const v = Math.round(img.data[i * c + k] + delta[i]);
      out[i * c + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { ...img, data: out };
}

/**
 * Noise standard deviation of a plane (same scale as the plane), by Immerkaer's estimator: the mean absolute
 * response to the difference of two Laplacians, `sqrt(π/2) / (6 (W−2)(H−2)) · Σ |I ∗ N|`.
 *
 * @example
 * ```ts
 * const levels = estimateNoise(lumaPlane(img), img.width, img.height);
 * ```
 */
export function estimateNoise(plane: Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v =
        plane[i - width - 1] - 2 * plane[i - width] + plane[i - width + 1] -
        2 * plane[i - 1] + 4 * plane[i] - 2 * plane[i + 1] +
        plane[i + width - 1] - 2 * plane[i + width] + plane[i + width + 1];
      sum += Math.abs(v);
    }
  }
  return (Math.sqrt(Math.PI / 2) * sum) / (6 * (width - 2) * (height - 2));
}

/**
 * @internal λ for an image with estimated noise `noise` (8-bit levels): `opts.lambda`, else from the regularisation.
 *
 * @example
 * ```ts
 * const lambda = lambdaFor(1.5, {});
 * ```
 */
export function lambdaFor(noise: number, o: DeconvolveOptions): number {
  if (o.lambda !== undefined) {
    if (!(Number.isFinite(o.lambda) && o.lambda >= 0)) throw new ConfigError(`lambda must be a finite number ≥ 0, got ${o.lambda}`);
    return o.lambda;
  }
  const r = o.regularisation ?? WIENER_X1;
  return r.lambda0 + r.noiseGain * noise * noise;
}

/** DFT (length n) of symmetric taps centred at 0: real. */
function symmetricTransfer(taps: Float32Array, n: number): Float64Array {
  const r = (taps.length - 1) / 2;
  const out = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    let s = taps[r];
    for (let k = 1; k <= r; k++) s += 2 * taps[r + k] * Math.cos((2 * Math.PI * u * k) / n);
    out[u] = s;
  }
  return out;
}

/**
 * Transfer function `K(u, v)` of a blur on an `n × m` frequency grid (row-major, `m` rows): real and imaginary parts.
 *
 * @example
 * ```ts
 * const { re, im } = blurTransfer({ sigma: 1 }, 256, 256);
 * ```
 */
export function blurTransfer(kernel: BlurKernel, n: number, m: number): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(n * m).fill(1);
  const im = new Float64Array(n * m);
  if (kernel.sigma > 0) {
    const taps = gaussianTaps(kernel.sigma);
    const gx = symmetricTransfer(taps, n);
    const gy = symmetricTransfer(taps, m);
    for (let v = 0; v < m; v++) for (let u = 0; u < n; u++) re[v * n + u] = gx[u] * gy[v];
  }
  if (kernel.motion) {
    const k = motionKernel(kernel.motion.length, kernel.motion.angle);
    const mr = new Float64Array(n * m);
    const mi = new Float64Array(n * m);
    const cu = new Float64Array(n);
    const su = new Float64Array(n);
    for (let t = 0; t < k.w.length; t++) {
      const dx = k.dx[t];
      const dy = k.dy[t];
      for (let u = 0; u < n; u++) {
        const a = (2 * Math.PI * u * dx) / n;
        cu[u] = Math.cos(a);
        su[u] = -Math.sin(a);
      }
      for (let v = 0; v < m; v++) {
        const b = (2 * Math.PI * v * dy) / m;
        const cv = Math.cos(b) * k.w[t];
        const sv = -Math.sin(b) * k.w[t];
        const row = v * n;
        for (let u = 0; u < n; u++) {
          mr[row + u] += cu[u] * cv - su[u] * sv;
          mi[row + u] += cu[u] * sv + su[u] * cv;
        }
      }
    }
    for (let i = 0; i < n * m; i++) {
      const r = re[i] * mr[i] - im[i] * mi[i];
      im[i] = re[i] * mi[i] + im[i] * mr[i];
      re[i] = r;
    }
  }
  return { re, im };
}

/**
 * The spectrum of a plane padded by mirroring (half-sample symmetric, as the degradations pad) to a power-of-two
 * `n × m` at least `pad` pixels larger on every side; `(x0, y0)` is where the plane sits in it. The wrap-around of
 * the FFT joins two mirrored copies `pad` or more pixels away from the plane, out of reach of the filters used here.
 *
 * @example
 * ```ts
 * const spec = paddedSpectrum(lumaPlane(img), img.width, img.height, 32);
 * ```
 */
export function paddedSpectrum(plane: Float64Array, width: number, height: number, pad: number): Spectrum {
  const pow2 = (v: number) => 2 ** Math.ceil(Math.log2(v));
  const n = pow2(width + 2 * pad);
  const m = pow2(height + 2 * pad);
  const x0 = Math.floor((n - width) / 2);
  const y0 = Math.floor((m - height) / 2);
  const xs = new Int32Array(n);
  for (let x = 0; x < n; x++) xs[x] = reflectIndex(x - x0, width);
  const re = new Float64Array(n * m);
  for (let y = 0; y < m; y++) {
    const row = reflectIndex(y - y0, height) * width;
    for (let x = 0; x < n; x++) re[y * n + x] = plane[row + xs[x]];
  }
  const im = new Float64Array(n * m);
  fft2d(re, im, n, m);
  return { re, im, n, m, x0, y0 };
}

/**
 * A padded plane's spectrum (see {@link paddedSpectrum}).
 *
 * @example
 * ```ts
 * const { n, m, x0, y0 }: Spectrum = paddedSpectrum(plane, w, h, 32);
 * ```
 */
export interface Spectrum {
  re: Float64Array;
  im: Float64Array;
  /** FFT width and height. */
  n: number;
  m: number;
  /** Position of the plane in the padded array. */
  x0: number;
  y0: number;
}

/**
 * Applies the regularised Wiener filter to a padded spectrum and returns the `width × height` plane.
 *
 * @example
 * ```ts
 * const spec = paddedSpectrum(y, w, h, 32);
 * const sharp = wienerFromSpectrum(spec, w, h, blurTransfer({ sigma: 1 }, spec.n, spec.m), 0.002);
 * ```
 */
export function wienerFromSpectrum(spec: Spectrum, width: number, height: number, k: { re: Float64Array; im: Float64Array }, lambda: number): Float64Array {
  const { n, m } = spec;
  const re = new Float64Array(n * m);
  const im = new Float64Array(n * m);
  const dx = new Float64Array(n);
  for (let u = 0; u < n; u++) dx[u] = 4 * Math.sin((Math.PI * u) / n) ** 2;
  for (let v = 0; v < m; v++) {
    const dy = 4 * Math.sin((Math.PI * v) / m) ** 2;
    for (let u = 0; u < n; u++) {
      const i = v * n + u;
      const kr = k.re[i];
      const ki = k.im[i];
      const den = kr * kr + ki * ki + lambda * (dx[u] + dy);
      if (den === 0) {
        // Only at (0, 0) with a kernel of zero DC gain, which a normalised blur never has.
        re[i] = spec.re[i];
        im[i] = spec.im[i];
        continue;
      }
      // conj(K)·Y / den
      re[i] = (kr * spec.re[i] + ki * spec.im[i]) / den;
      im[i] = (kr * spec.im[i] - ki * spec.re[i]) / den;
    }
  }
  fft2d(re, im, n, m, true);
  const out = new Float64Array(width * height);
  const s = 1 / (n * m);
  for (let y = 0; y < height; y++) {
    const row = (y + spec.y0) * n + spec.x0;
    for (let x = 0; x < width; x++) out[y * width + x] = re[row + x] * s;
  }
  return out;
}

/** Padding (pixels) around a plane before its FFT: covers the blur and the tail of its regularised inverse. */
function padFor(kernel: BlurKernel): number {
  return Math.max(32, Math.ceil(12 * kernel.sigma + (kernel.motion ? 2 * kernel.motion.length : 0)));
}

/**
 * @internal Throws ConfigError unless the image is 8-bit and at least 2×2.
 *
 * @example
 * ```ts
 * checkImage(img);
 * ```
 */
export function checkImage(img: RawImage): void {
  if (!(img.data instanceof Uint8Array)) throw new ConfigError('deconvolution works on 8-bit images');
  if (img.width < 2 || img.height < 2) throw new ConfigError(`image ${img.width}x${img.height} is too small to deconvolve`);
}

function checkKernel(kernel: BlurKernel): void {
  if (!(Number.isFinite(kernel.sigma) && kernel.sigma >= 0 && kernel.sigma <= 10)) throw new ConfigError(`kernel sigma must be in [0, 10], got ${kernel.sigma}`);
  const m = kernel.motion;
  if (m && !(Number.isFinite(m.length) && m.length >= 1 && m.length <= 41 && Number.isFinite(m.angle))) {
    throw new ConfigError(`motion length must be in [1, 41] with a finite angle, got ${m.length} at ${m.angle}`);
  }
}

/**
 * Non-blind deconvolution: undoes a known blur with the regularised Wiener filter (see the module doc), on the luma.
 * Given the true kernel of a degradation this is the oracle the blind methods are measured against.
 *
 * @throws ConfigError for a non-8-bit or tiny image, or an invalid kernel / λ.
 * @example
 * ```ts
 * const restored = wienerDeconvolve(blurred, { sigma: 1.5 }); // 8-bit RawImage, same size and channels
 * ```
 */
export function wienerDeconvolve(img: RawImage, kernel: BlurKernel, opts: DeconvolveOptions = {}): RawImage {
  checkImage(img);
  checkKernel(kernel);
  const { width: w, height: h } = img;
  const y = lumaPlane(img);
  const lambda = lambdaFor(estimateNoise(y, w, h), opts);
  const spec = paddedSpectrum(y, w, h, padFor(kernel));
  const sharp = wienerFromSpectrum(spec, w, h, blurTransfer(kernel, spec.n, spec.m), lambda);
  for (let i = 0; i < sharp.length; i++) sharp[i] -= y[i];
  return addToColour(img, sharp);
}
