/**
 * Complex FFTs of any length for the classical deconvolution baselines: radix-2 Cooley–Tukey for powers of two,
 * Bluestein's chirp-z transform (through a power-of-two FFT) for every other length. Data are split real / imaginary
 * `Float64Array`s, transformed in place. Plans (twiddles, bit reversal, chirps) are cached per length.
 */
import { ConfigError } from '../errors';

interface Radix2Plan {
  n: number;
  rev: Uint32Array;
  cos: Float64Array;
  sin: Float64Array;
}

interface BluesteinPlan {
  n: number;
  m: Radix2Plan;
  /** Chirp `exp(-iπk²/n)`, k < n. */
  wr: Float64Array;
  wi: Float64Array;
  /** FFT of the conjugate chirp, wrapped to length m. */
  br: Float64Array;
  bi: Float64Array;
  /** Work buffers of length m. */
  ar: Float64Array;
  ai: Float64Array;
}

const radix2Plans = new Map<number, Radix2Plan>();
const bluesteinPlans = new Map<number, BluesteinPlan>();

function radix2Plan(n: number): Radix2Plan {
  let p = radix2Plans.get(n);
  if (p) return p;
  const bits = Math.log2(n);
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, x = i; b < bits; b++, x >>= 1) r = (r << 1) | (x & 1);
    rev[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = Math.sin((2 * Math.PI * i) / n);
  }
  p = { n, rev, cos, sin };
  radix2Plans.set(n, p);
  return p;
}

/** In-place radix-2 FFT (forward: exp(-2πi kn/N)); `inverse` uses exp(+2πi kn/N) and does not scale. */
function radix2(p: Radix2Plan, re: Float64Array, im: Float64Array, inverse: boolean): void {
  const { n, rev, cos, sin } = p;
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sgn = inverse ? 1 : -1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sgn * sin[k * step];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

function bluesteinPlan(n: number): BluesteinPlan {
  let p = bluesteinPlans.get(n);
  if (p) return p;
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const plan = radix2Plan(m);
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // k² mod 2n keeps the angle exact for large k.
    const a = (Math.PI * ((k * k) % (2 * n))) / n;
    wr[k] = Math.cos(a);
    wi[k] = -Math.sin(a);
  }
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  br[0] = wr[0];
  bi[0] = -wi[0];
  for (let k = 1; k < n; k++) {
    br[k] = br[m - k] = wr[k];
    bi[k] = bi[m - k] = -wi[k];
  }
  radix2(plan, br, bi, false);
  p = { n, m: plan, wr, wi, br, bi, ar: new Float64Array(m), ai: new Float64Array(m) };
  bluesteinPlans.set(n, p);
  return p;
}

function bluestein(p: BluesteinPlan, re: Float64Array, im: Float64Array, inverse: boolean): void {
  const { n, wr, wi, br, bi, ar, ai } = p;
  const m = p.m.n;
  // The inverse transform is the conjugate of the forward transform of the conjugate.
  const s = inverse ? -1 : 1;
  ar.fill(0);
  ai.fill(0);
  for (let k = 0; k < n; k++) {
    const xr = re[k];
    const xi = s * im[k];
    ar[k] = xr * wr[k] - xi * wi[k];
    ai[k] = xr * wi[k] + xi * wr[k];
  }
  radix2(p.m, ar, ai, false);
  for (let k = 0; k < m; k++) {
    const xr = ar[k] * br[k] - ai[k] * bi[k];
    ai[k] = ar[k] * bi[k] + ai[k] * br[k];
    ar[k] = xr;
  }
  radix2(p.m, ar, ai, true);
  for (let k = 0; k < n; k++) {
    const xr = ar[k] / m;
    const xi = ai[k] / m;
    re[k] = xr * wr[k] - xi * wi[k];
    im[k] = s * (xr * wi[k] + xi * wr[k]);
  }
}

/**
 * In-place 1-D discrete Fourier transform of any length `n ≥ 1`: forward `X[k] = Σ x[j]·exp(-2πi jk/n)`, or with
 * `inverse` the unscaled `Σ X[k]·exp(+2πi jk/n)` (divide by `n` to invert).
 *
 * @throws ConfigError when the arrays differ in length or are empty.
 * @example
 * ```ts
 * const re = Float64Array.from([1, 2, 3]), im = new Float64Array(3);
 * fft(re, im); // re = [6, -1.5, -1.5], im = [0, 0.866, -0.866]
 * ```
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (n === 0 || im.length !== n) throw new ConfigError(`fft needs two arrays of the same non-zero length, got ${re.length} and ${im.length}`);
  if (n === 1) return;
  if ((n & (n - 1)) === 0) radix2(radix2Plan(n), re, im, inverse);
  else bluestein(bluesteinPlan(n), re, im, inverse);
}

/**
 * In-place 2-D DFT of a `width × height` row-major complex array (rows, then columns); `inverse` is unscaled
 * (divide by `width·height` to invert).
 *
 * @throws ConfigError when the arrays do not hold `width·height` values.
 * @example
 * ```ts
 * const re = new Float64Array(64 * 48), im = new Float64Array(64 * 48);
 * fft2d(re, im, 64, 48);
 * ```
 */
export function fft2d(re: Float64Array, im: Float64Array, width: number, height: number, inverse = false): void {
  if (re.length !== width * height || im.length !== width * height) throw new ConfigError(`fft2d: arrays must hold ${width}x${height} values`);
  const rowR = new Float64Array(width);
  const rowI = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    rowR.set(re.subarray(o, o + width));
    rowI.set(im.subarray(o, o + width));
    fft(rowR, rowI, inverse);
    re.set(rowR, o);
    im.set(rowI, o);
  }
  const colR = new Float64Array(height);
  const colI = new Float64Array(height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      colR[y] = re[y * width + x];
      colI[y] = im[y * width + x];
    }
    fft(colR, colI, inverse);
    for (let y = 0; y < height; y++) {
      re[y * width + x] = colR[y];
      im[y * width + x] = colI[y];
    }
  }
}
