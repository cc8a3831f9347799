// The blind x1 benchmark: the protocol (determinism, ranges, order independence), the classical baselines (FFT,
// Wiener, blind sigma estimate, sharp), and the eval CLI's x1 flags.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blindDeconvolve, estimateBlurSigma } from '../src/classical/blind';
import { wienerDeconvolve } from '../src/classical/deconvolve';
import { fft, fft2d } from '../src/classical/fft';
import { SHARP_SHARPEN_X1, sharpSharpen } from '../src/classical/sharp-sharpen';
import { evaluateX1Baseline, x1Baseline } from '../src/classical/x1-baselines';
import { convolveSeparable, convolveSparse, gaussianTaps, motionKernel } from '../src/data/blur';
import { proceduralImage } from '../src/data/procedural';
import { BLIND_X1_DEGRADATION, BLIND_X1_SEED, blindX1Params, degradeX1, describeDegradationParams, fnv1a32 } from '../src/data/x1-protocol';
import { ConfigError } from '../src/errors';
import { degradeForEval, evaluateUpscaler } from '../src/infer/evaluate';
import { writeImage } from '../src/io/node-image';
import { fromFloatRgb, toFloatRgb, type RawImage } from '../src/io/raw-image';
import { psnr } from '../src/metrics/psnr';
import { runCli } from './cli-process';

const yPsnr = (a: RawImage, b: RawImage) => psnr(a, b, { yChannel: true, crop: 1 });

/** An 8-bit RGB procedural image (edges, strokes, gratings). */
function synthetic(seed: number, w: number, h: number): RawImage {
  const img = proceduralImage(seed, w, h);
  return { data: img.data as Uint8Array, width: w, height: h, channels: 3, bits: 8 };
}

/** `hr` blurred by a Gaussian (and a motion kernel), 8-bit, mirrored borders as the degradations do. */
function blurred(hr: RawImage, sigma: number, motion?: { length: number; angle: number }): RawImage {
  let f = toFloatRgb(hr);
  if (motion) f = convolveSparse(f, hr.width, hr.height, motionKernel(motion.length, motion.angle));
  f = convolveSeparable(f, hr.width, hr.height, gaussianTaps(sigma));
  return fromFloatRgb(f, hr.width, hr.height, 8);
}

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sharpen-kd-x1-'));
  await writeImage(path.join(tmp, 'HR', 'alpha.png'), synthetic(3, 72, 60));
  await writeImage(path.join(tmp, 'HR', 'beta.png'), synthetic(4, 64, 64));
  await writeImage(path.join(tmp, 'one', 'beta.png'), synthetic(4, 64, 64));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('blind x1 protocol', () => {
  it('draws each image from its name and the seed only, within the documented ranges', () => {
    expect(blindX1Params('baby')).toEqual(blindX1Params('baby', BLIND_X1_SEED));
    expect(blindX1Params('baby')).not.toEqual(blindX1Params('bird'));
    expect(blindX1Params('baby', 2)).not.toEqual(blindX1Params('baby', 1));
    expect(fnv1a32('')).toBe(0x811c9dc5);
    let motion = 0;
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const p = blindX1Params(`img${i}`);
      expect(p.sigma).toBeGreaterThanOrEqual(0.5);
      expect(p.sigma).toBeLessThanOrEqual(2);
      expect(p.noise).toBeGreaterThanOrEqual(0);
      expect(p.noise).toBeLessThanOrEqual(3);
      expect(Number.isInteger(p.jpegQuality) && p.jpegQuality >= 60 && p.jpegQuality <= 95).toBe(true);
      if (p.motion) {
        motion++;
        expect(p.motion.length).toBeGreaterThanOrEqual(3);
        expect(p.motion.length).toBeLessThanOrEqual(9);
      }
    }
    expect(Math.abs(motion / n - BLIND_X1_DEGRADATION.motionBlur.prob)).toBeLessThan(0.04);
    expect(describeDegradationParams({ sigma: 1.234, motion: { length: 5.5, angle: Math.PI / 4 }, noise: 1.2, noiseSeed: 0, jpegQuality: 75 })).toBe(
      'blur σ 1.23, motion 5.5 px at 45°, noise 1.2, JPEG q75',
    );
  });

  it('degrades an image the same way every time; gaussian is the earlier sigma-1 input; bad options are ConfigErrors', async () => {
    const hr = synthetic(5, 48, 40);
    const a = await degradeX1(hr, 'x');
    const b = await degradeX1(hr, 'x');
    expect(Array.from(a.lr.data)).toEqual(Array.from(b.lr.data));
    expect(a.params).toEqual(blindX1Params('x'));
    expect(await yPsnr(a.lr, hr)).toBeLessThan(40);
    const g = await degradeX1(hr, 'x', { protocol: 'gaussian' });
    expect(Array.from(g.lr.data)).toEqual(Array.from(degradeForEval(hr, 1, 1).data));
    expect(g.params).toMatchObject({ sigma: 1, motion: null, noise: 0, jpegQuality: 0 });
    // sharp: the HR as JPEG at quality 90 and nothing else (close to HR, not equal; the same whatever the name).
    const sharp = await degradeX1(hr, 'x', { protocol: 'sharp' });
    expect(sharp.params).toEqual({ sigma: 0, motion: null, noise: 0, noiseSeed: 0, jpegQuality: 90 });
    expect(Array.from(sharp.lr.data)).toEqual(Array.from((await degradeX1(hr, 'y', { protocol: 'sharp' })).lr.data));
    const sharpDb = await yPsnr(sharp.lr, hr);
    expect(sharpDb).toBeGreaterThan(await yPsnr(a.lr, hr));
    expect(Number.isFinite(sharpDb)).toBe(true);
    expect(describeDegradationParams(sharp.params)).toBe('no blur, JPEG q90');
    await expect(degradeX1(hr, 'x', { protocol: 'nope' as 'blind' })).rejects.toThrow(ConfigError);
    await expect(degradeX1(hr, 'x', { seed: -1 })).rejects.toThrow(ConfigError);
  });

  it('scores an image the same whatever else is in the folder; reports the protocol and each draw', async () => {
    const identity = async (lr: RawImage) => lr;
    const both = await evaluateUpscaler(identity, path.join(tmp, 'HR'), { scale: 1, model: 'id', backend: 'js' });
    const one = await evaluateUpscaler(identity, path.join(tmp, 'one'), { scale: 1, model: 'id', backend: 'js' });
    expect(both.protocol).toEqual({ name: 'blind', seed: 1 });
    expect(both.images.map((i) => i.name)).toEqual(['alpha', 'beta']);
    expect(one.images[0]).toEqual(both.images[1]);
    expect(both.images[1].degradation).toEqual(blindX1Params('beta'));
    const other = await evaluateUpscaler(identity, path.join(tmp, 'one'), { scale: 1, seed: 7, model: 'id', backend: 'js' });
    expect(other.images[0].psnr).not.toBe(one.images[0].psnr);
    const gauss = await evaluateUpscaler(identity, path.join(tmp, 'one'), { scale: 1, protocol: 'gaussian', model: 'id', backend: 'js' });
    expect(gauss.protocol).toEqual({ name: 'gaussian', blurSigma: 1 });
    await expect(evaluateUpscaler(identity, tmp, { scale: 1, blurSigma: 2, model: 'id', backend: 'js' })).rejects.toThrow(/gaussian protocol/);
    const sharp = await evaluateUpscaler(identity, path.join(tmp, 'one'), { scale: 1, protocol: 'sharp', model: 'id', backend: 'js' });
    expect(sharp.protocol).toEqual({ name: 'sharp' });
    expect(sharp.psnr).toBeGreaterThan(gauss.psnr);
    await expect(evaluateUpscaler(identity, tmp, { scale: 1, protocol: 'sharp', seed: 2, model: 'id', backend: 'js' })).rejects.toThrow(/seed applies to the blind protocol/);
    await expect(evaluateUpscaler(identity, tmp, { scale: 2, protocol: 'gaussian', model: 'id', backend: 'js' })).rejects.toThrow(/scale 1/);
  });
});

describe('FFT', () => {
  const naive = (re: number[], im: number[]) =>
    re.map((_, k) => {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < re.length; j++) {
        const a = (-2 * Math.PI * j * k) / re.length;
        sr += re[j] * Math.cos(a) - im[j] * Math.sin(a);
        si += re[j] * Math.sin(a) + im[j] * Math.cos(a);
      }
      return [sr, si];
    });

  it('matches the naive DFT at power-of-two and other lengths, and inverts', () => {
    for (const n of [1, 2, 8, 7, 12, 30]) {
      const re = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) + i / n);
      const im = Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
      const r = Float64Array.from(re);
      const m = Float64Array.from(im);
      fft(r, m);
      const want = naive(re, im);
      for (let k = 0; k < n; k++) {
        expect(r[k]).toBeCloseTo(want[k][0], 9);
        expect(m[k]).toBeCloseTo(want[k][1], 9);
      }
      fft(r, m, true);
      for (let k = 0; k < n; k++) expect(r[k] / n).toBeCloseTo(re[k], 9);
    }
    const w = 6;
    const h = 4;
    const r = Float64Array.from({ length: w * h }, (_, i) => (i * 37) % 11);
    const orig = r.slice();
    const m = new Float64Array(w * h);
    fft2d(r, m, w, h);
    expect(r[0]).toBeCloseTo(orig.reduce((a, b) => a + b, 0), 9);
    fft2d(r, m, w, h, true);
    for (let i = 0; i < w * h; i++) expect(r[i] / (w * h)).toBeCloseTo(orig[i], 9);
    expect(() => fft(new Float64Array(3), new Float64Array(4))).toThrow(ConfigError);
  });
});

describe('classical x1 baselines', () => {
  const hr = synthetic(11, 96, 96);

  it('Wiener with the true kernel undoes most of a known blur; the blind sigma estimate is close', async () => {
    for (const sigma of [0.8, 1.5]) {
      const lr = blurred(hr, sigma);
      const before = await yPsnr(lr, hr);
      const after = await yPsnr(wienerDeconvolve(lr, { sigma }), hr);
      expect(after - before).toBeGreaterThan(1.5);
      expect(Math.abs(estimateBlurSigma(lr) - sigma)).toBeLessThan(0.35);
    }
    expect(() => wienerDeconvolve(lr16(), { sigma: 1 })).toThrow(ConfigError);
    expect(() => wienerDeconvolve(hr, { sigma: -1 })).toThrow(ConfigError);
  });

  it('every baseline runs and improves over a blurred synthetic image; the oracle beats the blind method on a known kernel', async () => {
    const lr = blurred(hr, 1.2);
    const before = await yPsnr(lr, hr);
    const info = { name: 'syn', degradation: { sigma: 1.2, motion: null, noise: 0, noiseSeed: 0, jpegQuality: 0 } };
    for (const name of ['sharp-default', 'sharp-tuned', 'wiener-blind', 'wiener-oracle'] as const) {
      const out = await x1Baseline(name)(lr, undefined, info);
      expect([out.width, out.height, out.channels]).toEqual([96, 96, 3]);
      expect(await yPsnr(out, hr), name).toBeGreaterThan(before + 0.1);
    }
    expect(Array.from((await x1Baseline('input')(lr)).data)).toEqual(Array.from(lr.data));
    await expect(x1Baseline('wiener-oracle')(lr)).rejects.toThrow(/true kernel/);
    // A motion blur on top: the blind method only models a Gaussian, the oracle knows both.
    const motion = { length: 7, angle: 0.6 };
    const lr2 = blurred(hr, 1, motion);
    const blind = await yPsnr(blindDeconvolve(lr2).image, hr);
    const oracle = await yPsnr(wienerDeconvolve(lr2, { sigma: 1, motion }), hr);
    expect(oracle).toBeGreaterThan(blind + 0.5);
    expect(await yPsnr(await sharpSharpen(lr, SHARP_SHARPEN_X1), hr)).toBeGreaterThan(before);
    await expect(sharpSharpen(lr, { sigma: -1 })).rejects.toThrow(ConfigError);
  });

  it('evaluateX1Baseline scores through the protocol (the oracle gets each image\'s true kernel)', async () => {
    const input = await evaluateX1Baseline('input', path.join(tmp, 'HR'));
    const oracle = await evaluateX1Baseline('wiener-oracle', path.join(tmp, 'HR'));
    expect(input.protocol).toEqual({ name: 'blind', seed: 1 });
    expect(oracle.n).toBe(2);
    expect(oracle.psnr).toBeGreaterThan(input.psnr);
  });
});

function lr16(): RawImage {
  return { data: new Uint16Array(4 * 4 * 3), width: 4, height: 4, channels: 3, bits: 16 };
}

describe('scale-1 training draws from the blind distribution', () => {
  it('resolveDegradation(1) is BLIND_X1_DEGRADATION, and the train help states its values', async () => {
    const { resolveDegradation } = await import('../src/data/degrade');
    const { Command } = await import('commander');
    const { addTrainingOptions } = await import('../src/cli/train');
    const cfg = resolveDegradation(1);
    for (const k of ['blur', 'motionBlur', 'noise', 'jpeg'] as const) expect(cfg[k]).toEqual(BLIND_X1_DEGRADATION[k]);
    const help = addTrainingOptions(new Command('train')).helpInformation().replace(/\s+/g, ' ');
    for (const [flag, k] of [['--blur', 'blur'], ['--motion-blur', 'motionBlur'], ['--noise', 'noise'], ['--jpeg', 'jpeg']] as const) {
      const d = BLIND_X1_DEGRADATION[k];
      expect(help, flag).toContain(`${d.range[0]},${d.range[1]},${d.prob}`);
    }
  });
});

describe('sharpen-kd eval (x1 flags)', () => {
  it('scores a baseline with the blind protocol by default and prints each draw; rejects flags that do not fit', async () => {
    const ok = await runCli('eval', '-d', path.join(tmp, 'HR'), '-s', '1', '--baseline', 'input');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/alpha\s+\d+\.\d+ dB\s+\d\.\d{4}\s+blur σ/);
    expect(ok.out).toMatch(/blind protocol \(seed 1\)/);
    const g = await runCli('eval', '-d', path.join(tmp, 'HR'), '-s', '1', '--baseline', 'input', '--blur', '1.5');
    expect(g.out).toMatch(/gaussian protocol \(sigma 1\.5\)/);
    const sharp = await runCli('eval', '-d', path.join(tmp, 'HR'), '-s', '1', '--baseline', 'input', '--protocol', 'sharp');
    expect(sharp.out).toMatch(/sharp protocol \(JPEG q90, no blur\)/);
    for (const [args, msg] of [
      [['--protocol', 'nope'], /--protocol takes blind, gaussian or sharp/],
      [['--protocol', 'sharp', '--blur', '1'], /the sharp protocol does not blur/],
      [['--protocol', 'sharp', '--seed', '3'], /--seed applies to the blind protocol/],
      [['--protocol', 'blind', '--blur', '1'], /blind protocol draws its own blur/],
      [['--protocol', 'gaussian', '--seed', '3'], /--seed applies to the blind protocol/],
      [['--baseline', 'magic'], /--baseline takes input, sharp-default/],
      [['--baseline', 'input', '-m', 'x1'], /drop --model/],
    ] as const) {
      const r = await runCli('eval', '-d', path.join(tmp, 'HR'), '-s', '1', ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err).toMatch(msg);
    }
    const x2 = await runCli('eval', '-d', path.join(tmp, 'HR'), '-s', '2', '--seed', '3');
    expect(x2.code).not.toBe(0);
    expect(x2.err).toMatch(/--seed applies to --scale 1 only/);
  }, 120_000);
});
