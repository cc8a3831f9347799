/**
 * Procedural training images for the synthetic dataset (used when no data folder is given): a gradient background,
 * textured regions (gratings, checkerboards, smooth noise), hard-edged shapes, thin lines and text-like strokes.
 * They exercise what a sharpening / SR model must reproduce: edges at all angles, fine periodic detail and glyphs.
 */
import { Rng } from '../core/rng';
import type { RawImage } from '../io/raw-image';

type Color = [number, number, number];

class Canvas {
  readonly data: Float32Array;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.data = new Float32Array(w * h * 3);
  }

  /** Blends `color(x, y)` with coverage `cov(x, y)` ∈ [0, 1] over a bounding box. */
  paint(x0: number, y0: number, x1: number, y1: number, cov: (x: number, y: number) => number, color: (x: number, y: number) => Color, alpha = 1): void {
    const xa = Math.max(0, Math.floor(x0));
    const ya = Math.max(0, Math.floor(y0));
    const xb = Math.min(this.w - 1, Math.ceil(x1));
    const yb = Math.min(this.h - 1, Math.ceil(y1));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const a = cov(x + 0.5, y + 0.5) * alpha;
        if (a <= 0) continue;
        const c = color(x, y);
        const i = 3 * (y * this.w + x);
        for (let k = 0; k < 3; k++) this.data[i + k] = this.data[i + k] * (1 - a) + c[k] * a;
      }
    }
  }
}

const randColor = (r: Rng): Color => [r.next(), r.next(), r.next()];

/** 4×4 supersampled coverage of an inside test. */
const supersample = (inside: (x: number, y: number) => boolean) => (x: number, y: number) => {
  let n = 0;
  for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) if (inside(x - 0.5 + (i + 0.5) / 4, y - 0.5 + (j + 0.5) / 4)) n++;
  return n / 16;
};

function pointInPolygon(px: number, py: number, xs: number[], ys: number[]): boolean {
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (ys[i] > py !== ys[j] > py && px < ((xs[j] - xs[i]) * (py - ys[i])) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
  }
  return inside;
}

/** Anti-aliased stroke of a segment with half-width `hw`. */
function stroke(cv: Canvas, ax: number, ay: number, bx: number, by: number, hw: number, color: Color): void {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy || 1e-9;
  const cov = (x: number, y: number) => {
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
    const d = Math.hypot(x - ax - t * dx, y - ay - t * dy);
    return Math.max(0, Math.min(1, hw + 0.5 - d));
  };
  const m = hw + 1;
  cv.paint(Math.min(ax, bx) - m, Math.min(ay, by) - m, Math.max(ax, bx) + m, Math.max(ay, by) + m, cov, () => color);
}

function texture(r: Rng): (x: number, y: number) => Color {
  const a = randColor(r);
  const b = randColor(r);
  const kind = r.int(3);
  const mix = (t: number): Color => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  if (kind === 0) {
    const th = r.uniform(0, Math.PI);
    const period = r.uniform(2.2, 16);
    const c = Math.cos(th);
    const s = Math.sin(th);
    return (x, y) => mix(0.5 + 0.5 * Math.sin(((x * c + y * s) * 2 * Math.PI) / period));
  }
  if (kind === 1) {
    const cell = 1 + r.int(8);
    return (x, y) => mix((Math.floor(x / cell) + Math.floor(y / cell)) & 1);
  }
  const g = 2 + r.int(10);
  const grid = Array.from({ length: 64 * 64 }, () => r.next());
  const at = (i: number, j: number) => grid[(((j % 64) + 64) % 64) * 64 + (((i % 64) + 64) % 64)];
  return (x, y) => {
    const fx = x / g;
    const fy = y / g;
    const i = Math.floor(fx);
    const j = Math.floor(fy);
    const u = fx - i;
    const v = fy - j;
    return mix((at(i, j) * (1 - u) + at(i + 1, j) * u) * (1 - v) + (at(i, j + 1) * (1 - u) + at(i + 1, j + 1) * u) * v);
  };
}

/**
 * Renders one seeded procedural image as 8-bit RGB.
 *
 * @example
 * ```ts
 * const img = proceduralImage(7, 256, 256); // same seed, same pixels
 * ```
 */
export function proceduralImage(seed: number, width: number, height: number): RawImage<Uint8Array> {
  const r = new Rng(seed);
  const cv = new Canvas(width, height);
  // Background gradient.
  const c0 = randColor(r);
  const c1 = randColor(r);
  const th = r.uniform(0, 2 * Math.PI);
  const radial = r.next() < 0.3;
  const diag = Math.hypot(width, height);
  cv.paint(0, 0, width, height, () => 1, (x, y) => {
    const t = radial ? Math.min(1, Math.hypot(x - width / 2, y - height / 2) / (diag / 2)) : 0.5 + ((x - width / 2) * Math.cos(th) + (y - height / 2) * Math.sin(th)) / diag;
    return [c0[0] + (c1[0] - c0[0]) * t, c0[1] + (c1[1] - c0[1]) * t, c0[2] + (c1[2] - c0[2]) * t];
  });
  // Textured regions (rectangles or ellipses).
  for (let n = 1 + r.int(3); n > 0; n--) {
    const w = r.uniform(0.2, 0.6) * width;
    const h = r.uniform(0.2, 0.6) * height;
    const x0 = r.uniform(-0.1, 0.9) * width;
    const y0 = r.uniform(-0.1, 0.9) * height;
    const tex = texture(r);
    const ellipse = r.next() < 0.5;
    const inside = ellipse
      ? (x: number, y: number) => ((x - x0 - w / 2) / (w / 2)) ** 2 + ((y - y0 - h / 2) / (h / 2)) ** 2 <= 1
      : (x: number, y: number) => x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
    cv.paint(x0, y0, x0 + w, y0 + h, supersample(inside), tex);
  }
  // Hard-edged shapes: polygons and ellipses of solid colour.
  for (let n = 3 + r.int(6); n > 0; n--) {
    const color = randColor(r);
    const cx = r.uniform(0, width);
    const cy = r.uniform(0, height);
    const rad = r.uniform(0.05, 0.25) * Math.min(width, height);
    if (r.next() < 0.6) {
      const k = 3 + r.int(4);
      const rot = r.uniform(0, 2 * Math.PI);
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = 0; i < k; i++) {
        const a = rot + (2 * Math.PI * (i + r.uniform(-0.3, 0.3))) / k;
        const rr = rad * r.uniform(0.5, 1);
        xs.push(cx + rr * Math.cos(a));
        ys.push(cy + rr * Math.sin(a));
      }
      cv.paint(cx - rad, cy - rad, cx + rad, cy + rad, supersample((x, y) => pointInPolygon(x, y, xs, ys)), () => color);
    } else {
      const ax = rad * r.uniform(0.4, 1);
      const ay = rad * r.uniform(0.4, 1);
      cv.paint(cx - ax, cy - ay, cx + ax, cy + ay, supersample((x, y) => ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1), () => color);
    }
  }
  // Thin straight lines across the image.
  for (let n = r.int(4); n > 0; n--) {
    stroke(cv, r.uniform(0, width), r.uniform(0, height), r.uniform(0, width), r.uniform(0, height), r.uniform(0.3, 1.2), randColor(r));
  }
  // Text-like lines: glyphs of 2-4 strokes on a baseline, dark on a light box or light on a dark one.
  for (let n = 1 + r.int(3); n > 0; n--) {
    const size = r.uniform(7, 26);
    const hw = Math.max(0.35, size * r.uniform(0.04, 0.1));
    const glyphs = 3 + r.int(10);
    const x0 = r.uniform(0, width * 0.6);
    const y0 = r.uniform(0, height - size);
    const dark = r.next() < 0.7;
    const ink: Color = dark ? [r.uniform(0, 0.2), r.uniform(0, 0.2), r.uniform(0, 0.2)] : [r.uniform(0.85, 1), r.uniform(0.85, 1), r.uniform(0.85, 1)];
    const paper: Color = dark ? [r.uniform(0.8, 1), r.uniform(0.8, 1), r.uniform(0.8, 1)] : [r.uniform(0, 0.25), r.uniform(0, 0.25), r.uniform(0, 0.25)];
    const adv = size * 0.7;
    if (r.next() < 0.6) cv.paint(x0 - 2, y0 - 2, x0 + glyphs * adv + 2, y0 + size + 2, () => 1, () => paper);
    for (let g = 0; g < glyphs; g++) {
      const gx = x0 + g * adv;
      for (let s = 2 + r.int(3); s > 0; s--) {
        const px = () => gx + r.uniform(0.05, 0.55) * size;
        const py = () => y0 + r.uniform(0, 1) * size;
        stroke(cv, px(), py(), px(), py(), hw, ink);
      }
    }
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(cv.data[i] * 255)));
  return { data: out, width, height, channels: 3, bits: 8 };
}
