/**
 * The temporal filter of video upscaling (`TemporalFilter`, `sharpenVideo`'s `temporal`): tiny synthetic frame
 * sequences, the "model" a nearest-neighbour ×2 upscale (or the identity), so that every expected value is known.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng';
import { ConfigError, ShapeError } from '../src/errors';
import type { RawImage } from '../src/io/raw-image';
import { PlaneBlender, WEIGHT_ONE } from '../src/video/temporal-blend';
import { TemporalFilter } from '../src/video/temporal-filter';

const W = 40;
const H = 30;
type Frame = RawImage<Uint8Array>;

function frame(w: number, h: number, f: (x: number, y: number, c: number) => number): Frame {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(f(x, y, c))));
  return { data, width: w, height: h, channels: 3, bits: 8 };
}

/** Smooth content with some texture: a ramp, a disc and a checker patch. */
const scene = (x: number, y: number, c: number): number => 40 + 3 * x + 2 * y + 20 * c + ((x - 12) ** 2 + (y - 14) ** 2 < 40 ? 60 : 0) + (x > 28 && y > 18 && (x + y) % 2 ? 30 : 0);

function noisy(clean: Frame, sigma: number, rng: Rng): Frame {
  return { ...clean, data: Uint8Array.from(clean.data, (v) => Math.max(0, Math.min(255, Math.round(v + sigma * rng.normal())))) };
}

/** The stand-in model: nearest-neighbour ×2. */
function up2(f: Frame): Frame {
  return frame(f.width * 2, f.height * 2, (x, y, c) => f.data[((y >> 1) * f.width + (x >> 1)) * 3 + c]);
}

/** Mean |a − b| over all samples. */
function meanAbs(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('TemporalFilter', () => {
  it('leaves a static noiseless sequence exactly as it is (estimated noise, and a given one)', () => {
    const clean = frame(W, H, scene);
    const out = up2(clean);
    for (const filter of [new TemporalFilter(), new TemporalFilter({ noise: 3, strength: 0.9 })]) {
      for (let t = 0; t < 6; t++) {
        const r = filter.push(clean, out);
        expect(r.data).toEqual(out.data);
        expect(r.data).not.toBe(out.data);
        expect([r.width, r.height, r.channels]).toEqual([2 * W, 2 * H, 3]);
      }
      expect(filter.stats).toMatchObject({ frames: 6, resets: 0 });
    }
  });

  it('cuts the flicker of a static noisy sequence to about (1 − α) / √(1 + α), and brings the frames closer to the clean one', () => {
    const rng = new Rng(7);
    const clean = frame(W, H, scene);
    const cleanUp = up2(clean);
    const filter = new TemporalFilter({ strength: 0.5 });
    let raw = 0;
    let filtered = 0;
    let rawErr = 0;
    let filteredErr = 0;
    let prev: { raw: Frame; filtered: Frame } | undefined;
    const T = 16;
    for (let t = 0; t < T; t++) {
      const n = noisy(clean, 3, rng);
      const y = up2(n);
      const s = filter.push(n, y);
      if (prev) {
        raw += meanAbs(y.data, prev.raw.data);
        filtered += meanAbs(s.data, prev.filtered.data);
      }
      if (t >= 4) {
        rawErr += meanAbs(y.data, cleanUp.data);
        filteredErr += meanAbs(s.data, cleanUp.data);
      }
      prev = { raw: y, filtered: s };
    }
    // α = 0.5: 0.41 in steady state on every pixel; a few pixels get less than full weight.
    expect(filtered / raw).toBeLessThan(0.55);
    expect(filtered / raw).toBeGreaterThan(0.3);
    expect(filteredErr).toBeLessThan(0.8 * rawErr);
    expect(filter.stats.resets).toBe(0);
    // The noise estimate (σ = 3 levels of white noise) from the frames alone.
    expect(filter.stats.noise).toBeGreaterThan(2.4);
    expect(filter.stats.noise).toBeLessThan(3.6);
  });

  it('passes a moving edge through without a ghost (a filter told that everything is noise does leave one)', () => {
    const rng = new Rng(3);
    const at = (t: number) => frame(W, H, (x) => (x < 8 + 2 * t ? 30 : 200));
    const run = (filter: TemporalFilter) => {
      let ghost = 0;
      let worst = 0;
      for (let t = 0; t < 10; t++) {
        const n = noisy(at(t), 2, rng);
        const y = up2(n);
        const s = filter.push(n, y);
        if (t === 0) continue;
        // The pixels the edge crossed since the last frame, at the output's size: x in [2·(8 + 2(t−1)), 2·(8 + 2t)).
        let sum = 0;
        let count = 0;
        for (let oy = 0; oy < 2 * H; oy++) {
          for (let ox = 2 * (8 + 2 * (t - 1)); ox < 2 * (8 + 2 * t); ox++) {
            for (let c = 0; c < 3; c++) {
              const i = (oy * 2 * W + ox) * 3 + c;
              sum += Math.abs(s.data[i] - y.data[i]);
              count++;
            }
          }
        }
        ghost = Math.max(ghost, sum / count);
        worst = Math.max(worst, ...s.data.map((v, i) => Math.abs(v - y.data[i])));
      }
      return { ghost, worst };
    };
    const adaptive = run(new TemporalFilter({ strength: 0.5 }));
    expect(adaptive.ghost).toBeLessThan(1);
    expect(adaptive.worst).toBeLessThanOrEqual(12);
    // Noise said to be 1000 levels: every change counts as noise, and the old edge shows through by α × 170.
    const blind = run(new TemporalFilter({ strength: 0.5, noise: 1000 }));
    expect(blind.ghost).toBeGreaterThan(50);
  });

  it('resets on a scene cut: the first frame of the new scene passes exactly, even where the two scenes agree', () => {
    const rng = new Rng(11);
    const a = frame(W, H, scene);
    // The new scene keeps the left quarter of the old one and changes the rest.
    const b = frame(W, H, (x, y, c) => (x < W / 4 ? scene(x, y, c) : 220 - 4 * y - 30 * c));
    const filter = new TemporalFilter();
    for (let t = 0; t < 6; t++) {
      const n = noisy(a, 2, rng);
      const s = filter.push(n, n);
      if (t > 2) expect(meanAbs(s.data, n.data)).toBeGreaterThan(0.3);
    }
    const cut = noisy(b, 2, rng);
    expect(filter.push(cut, cut).data).toEqual(cut.data);
    expect(filter.stats.resets).toBe(1);
    // Filtering starts again from the new scene.
    const next = noisy(b, 2, rng);
    expect(meanAbs(filter.push(next, next).data, next.data)).toBeGreaterThan(0.3);
    expect(filter.stats.resets).toBe(1);
  });

  it('starts over on a new frame size and after reset(); strength 0 passes every frame as it is', () => {
    const rng = new Rng(5);
    const filter = new TemporalFilter();
    const small = frame(W, H, scene);
    for (let t = 0; t < 3; t++) filter.push(noisy(small, 2, rng), noisy(small, 2, rng));
    const big = noisy(frame(W + 4, H, scene), 2, rng);
    expect(filter.push(big, big).data).toEqual(big.data);
    expect(filter.stats.resets).toBe(1);
    filter.push(noisy(frame(W + 4, H, scene), 2, rng), noisy(frame(W + 4, H, scene), 2, rng));
    filter.reset();
    const again = noisy(frame(W + 4, H, scene), 2, rng);
    expect(filter.push(again, again).data).toEqual(again.data);

    const off = new TemporalFilter({ strength: 0 });
    for (let t = 0; t < 4; t++) {
      const n = noisy(small, 3, rng);
      expect(off.push(n, n).data).toEqual(n.data);
    }
  });

  it('takes 8-bit frames of 1 to 4 channels, Uint8ClampedArray too (RGBA canvas pixels), and returns the same type', () => {
    const rgba = { data: new Uint8ClampedArray(8 * 6 * 4).fill(90), width: 8, height: 6, channels: 4 as const };
    const filter = new TemporalFilter();
    const r = filter.push(rgba, rgba);
    expect(r.data).toBeInstanceOf(Uint8ClampedArray);
    expect(filter.push(rgba, rgba).data).toEqual(rgba.data);
  });

  it('bad options are ConfigErrors; mismatched frames are ShapeErrors', () => {
    for (const strength of [-0.1, 0.96, 1, Number.NaN]) expect(() => new TemporalFilter({ strength })).toThrow(ConfigError);
    expect(() => new TemporalFilter({ noise: -1 })).toThrow(ConfigError);
    expect(() => new TemporalFilter({ noise: Infinity })).toThrow(/noise level/);
    const f = new TemporalFilter();
    const a = frame(10, 8, () => 1);
    expect(() => f.push(a, frame(15, 12, () => 1))).toThrow(ShapeError);
    expect(() => f.push(a, frame(20, 24, () => 1))).toThrow(/whole multiple/);
    expect(() => f.push(a, { data: new Uint8Array(20 * 16), width: 20, height: 16, channels: 1 })).toThrow(/channels/);
    expect(() => f.push(a, { data: new Uint16Array(20 * 16 * 3), width: 20, height: 16, channels: 3 } as unknown as Frame)).toThrow(/8-bit/);
    expect(() => f.push(a, { ...a, data: a.data.subarray(1) })).toThrow(/samples/);
  });
});

describe('the temporal blend kernel', () => {
  it('WebAssembly SIMD and JavaScript give the same state and bytes, for any plane layout and weights', () => {
    const rng = new Rng(21);
    // [input w, h, planes]: I420 at ×4 and ×2, interleaved RGB at ×1 and ×3, odd sizes (runs that are not multiples of 8).
    const layouts: [number, number, { offset: number; width: number; height: number; channels: number }[]][] = [
      [20, 12, [{ offset: 0, width: 80, height: 48, channels: 1 }, { offset: 3840, width: 40, height: 24, channels: 1 }, { offset: 4800, width: 40, height: 24, channels: 1 }]],
      [13, 7, [{ offset: 0, width: 26, height: 14, channels: 1 }, { offset: 364, width: 13, height: 7, channels: 1 }, { offset: 455, width: 13, height: 7, channels: 1 }]],
      [9, 5, [{ offset: 0, width: 9, height: 5, channels: 3 }]],
      [5, 3, [{ offset: 7, width: 15, height: 9, channels: 3 }]],
    ];
    for (const [inW, inH, planes] of layouts) {
      const length = Math.max(...planes.map((p) => p.offset + p.width * p.height * p.channels)) + 5;
      const wasm = new PlaneBlender(length, planes, inW, inH);
      const js = new PlaneBlender(length, planes, inW, inH, 'js');
      expect(wasm.engine).toBe('wasm');
      expect(js.engine).toBe('js');
      const first = Uint8Array.from({ length }, () => Math.floor(rng.uniform(0, 1) * 256));
      wasm.reset(first);
      js.reset(first);
      for (let t = 0; t < 4; t++) {
        const frame = Uint8Array.from({ length }, () => Math.floor(rng.uniform(0, 1) * 256));
        // Weights from 0 to the largest strength, some exactly 0.
        for (let p = 0; p < inW * inH; p++) wasm.weights[p] = js.weights[p] = p % 5 === 0 ? 0 : Math.round(rng.uniform(0, 1) * 0.95 * WEIGHT_ONE);
        const a = new Uint8Array(length);
        const b = new Uint8Array(length);
        wasm.blend(frame, a);
        js.blend(frame, b);
        expect(a).toEqual(b);
        expect(wasm.state).toEqual(js.state);
        // Samples outside the planes are copied.
        expect(a[length - 1]).toBe(frame[length - 1]);
      }
    }
  });

  it('the compiled WebAssembly modules are those of their .wat sources (scripts/build-wasm.ts)', async () => {
    const { generate } = await import('../scripts/build-wasm');
    const { readFileSync } = await import('node:fs');
    for (const wat of ['src/video/temporal-blend.wat', 'src/infer/luma-detail-tail.wat']) {
      const { path, text } = await generate(wat);
      expect(readFileSync(path, 'utf8'), `${path} is stale: run npx tsx scripts/build-wasm.ts`).toBe(text);
    }
  });
});

