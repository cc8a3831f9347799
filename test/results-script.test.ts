// The published-results script's bookkeeping: reading training runs and checking the targets.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun, type Entry } from '../lab/scripts/results/catalog';
import type { Measured } from '../lab/scripts/results/measure';
import { checkTargets, headlineStudent, kdGainTarget, kdSeedMeanTarget, type Row } from '../lab/scripts/results/targets';
import { cpuMark, otherCores, othersNote, othersWarning } from '../lab/scripts/results/machine';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sharpen-kd-results-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(name: string, lines: object[], model: 'model-best' | 'model-last' | null = 'model-best'): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  if (model) {
    fs.mkdirSync(path.join(dir, model));
    fs.writeFileSync(path.join(dir, model, 'model.json'), '{}');
  }
  fs.writeFileSync(path.join(dir, 'log.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"step":`);
  return dir;
}

function row(id: string, scale: number, psnr: number | undefined, extra: Partial<Entry> = {}, m: Partial<Measured> = {}): Row {
  const entry: Entry = { id, scale, role: 'student', label: id, ...extra };
  const measured: Measured = { backend: 'onnx', params: 21_440, gflops: 2.5, quality: psnr === undefined ? {} : { Set5: { psnr, ssim: 0.9, n: 5, images: [], seconds: 1 } }, ...m };
  return { entry, measured };
}

describe('readRun', () => {
  it('reads trained steps, the best validation and its step from log.jsonl (ignoring a half-written line)', () => {
    const dir = run('a', [{ step: 10, loss: 1 }, { step: 500, valPsnr: 29.1 }, { step: 1000, valPsnr: 29.6 }, { step: 1500, valPsnr: 29.4 }, { step: 1520, loss: 0.5 }]);
    const r = readRun(dir)!;
    expect(r).toMatchObject({ trainedSteps: 1520, bestStep: 1000, bestValPsnr: 29.6, model: 'model-best', active: true });
    expect(r.val).toEqual({ 500: 29.1, 1000: 29.6, 1500: 29.4 });
  });

  it('falls back to model-last, and is undefined without an exported model', () => {
    expect(readRun(run('b', [{ step: 20 }], 'model-last'))?.model).toBe('model-last');
    expect(readRun(run('c', [{ step: 20 }], null))).toBeUndefined();
  });
});

describe('checkTargets', () => {
  const runInfo = (steps: number, val: Record<number, number>) => ({ dir: '', trainedSteps: steps, val, active: false, model: 'model-best' as const });

  it('uses the shipped student when measured, else the best student, and enforces the parameter budget', () => {
    const rows = [row('student-scratch', 4, 30.95), row('student-distill', 4, 31.4, {}, { params: 45_000 })];
    expect(headlineStudent(rows, 4)?.entry.id).toBe('student-distill');
    const t = checkTargets(rows).find((x) => x.id === 'x4-set5')!;
    expect(t.status).toBe('MISS'); // 31.4 dB but over 40K params
    expect(t.gap).toBeCloseTo(0.1, 10);
    expect(t.note).toMatch(/over the 40,000-parameter budget/);
    const shipped = checkTargets([...rows, row('shipped', 4, 31.32)]).find((x) => x.id === 'x4-set5')!;
    expect([shipped.model, shipped.status]).toEqual(['shipped x4', 'PASS']);
    const x2 = checkTargets([row('shipped', 2, 37.19)]).find((x) => x.id === 'x2-set5')!;
    expect([x2.status, x2.gap?.toFixed(2)]).toEqual(['MISS', '-0.26']);
  });

  it('checks the mid-size x4-plus against its own bar and parameter budget', () => {
    const plus = (psnr: number, params: number) => checkTargets([row('shipped-plus', 4, psnr, {}, { params })]).find((x) => x.id === 'x4-plus-set5')!;
    expect(plus(31.42, 80_000).status).toBe('MISS');
    expect(plus(31.8, 80_000).status).toBe('PASS');
    expect(plus(31.8, 160_000)).toMatchObject({ status: 'MISS', note: expect.stringMatching(/over the 150,000-parameter budget/) });
    expect(checkTargets([]).find((x) => x.id === 'x4-plus-set5')!.status).toBe('not measured');
  });

  it('checks the x2 frame rate on the real-time x2-fast when it is measured, else on the shipped x2', () => {
    const fps = (v: number) => ({ fps: { fps: v, msMedian: 1000 / v, msP95: 1000 / v, runs: 20 } }) as Partial<Measured>;
    const both = checkTargets([row('shipped', 2, 37.29, {}, fps(16)), row('shipped-fast', 2, 36.9, {}, fps(33))]).find((x) => x.id === 'x2-fps')!;
    expect([both.model, both.status]).toEqual(['shipped-fast x2', 'PASS']);
    const alone = checkTargets([row('shipped', 2, 37.29, {}, fps(16))]).find((x) => x.id === 'x2-fps')!;
    expect([alone.model, alone.status]).toEqual(['shipped x2', 'MISS']);
  });

  it('takes the best distilled arm trained to the from-scratch step count, and ignores unfinished arms', () => {
    const study = {
      title: 'EMT x4 -> 16x8',
      base: { run: 'scratch', steps: 8000, set5: 30.74 },
      arms: [
        { run: 'kd', steps: 8000, set5: 30.81 },
        { run: 'kd-long', steps: 3000, set5: 31.5 },
        { run: 'kd-cache', steps: 8000, set5: 30.82 },
      ],
    };
    const t = kdGainTarget(study);
    expect([t.model, t.status, t.measured?.toFixed(2)]).toEqual(['kd-cache vs scratch', 'MISS', '0.08']);
    expect(kdGainTarget({ ...study, arms: [{ run: 'kd', steps: 8000, set5: 31.0 }] }).status).toBe('PASS');
    expect(kdGainTarget({ ...study, arms: [study.arms[1]] }).status).toBe('not measured');
  });

  it('averages output KD\'s gain over seeds, counting only pairs trained to the same step', () => {
    const pair = (seed: number, base: number, kd: number, kdSteps = 8000) => ({ seed, base: { run: `s${seed}`, steps: 8000, set5: base }, kd: { run: `k${seed}`, steps: kdSteps, set5: kd } });
    const t = kdSeedMeanTarget({ title: 'x4', pairs: [pair(1, 30.73, 30.81), pair(2, 30.79, 30.83), pair(3, 30.74, 30.78)] });
    expect([t.status, t.measured?.toFixed(3), t.model, t.note]).toEqual(['MISS', '0.053', '3 seeds', 'seed 1 +0.08, seed 2 +0.04, seed 3 +0.04']);
    const unequal = kdSeedMeanTarget({ title: 'x4', pairs: [pair(1, 30.0, 30.3), pair(2, 30.0, 30.0, 4000)] });
    expect([unequal.status, unequal.measured?.toFixed(2), unequal.model]).toEqual(['PASS', '0.30', '1 seed']);
    expect(kdSeedMeanTarget({ title: 'x4', pairs: [pair(1, 30.0, 30.3, 4000)] }).status).toBe('not measured');
  });

  it('checks the x4 frame rate of the headline student', () => {
    const rows = [row('student-scratch', 4, 30, {}, { fps: { fps: 31, msMedian: 32.2, msP95: 35, width: 1280, height: 720, warmup: 3, runs: 20, load1: 0.4 } })];
    const t = checkTargets(rows).find((x) => x.id === 'x4-fps')!;
    expect([t.status, t.gap]).toEqual(['PASS', 1]);
    expect(t.note).not.toMatch(/busy/);
    const busy = [row('student-scratch', 4, 30, {}, { fps: { fps: 31, msMedian: 32.2, msP95: 35, width: 1280, height: 720, warmup: 3, runs: 20, load1: 2.1, others: 0.8 } })];
    expect(checkTargets(busy).find((x) => x.id === 'x4-fps')!.note).toMatch(/other processes 0\.80 cores \(machine busy/);
  });
});

describe('other processes while frames are timed', () => {
  it('flags a frame rate, and the page, only when other processes took more than a quarter core', () => {
    expect(othersNote(undefined)).toBe('');
    expect(othersNote(0.05)).toBe('; other processes 0.05 cores');
    expect(othersNote(0.6)).toMatch(/0\.60 cores \(machine busy: not publishable\)/);
    expect(othersWarning([0.1, undefined, 0.25])).toBeUndefined();
    expect(othersWarning([0.1, 0.9, undefined])).toMatch(/up to 0\.90 cores/);
    expect(otherCores(undefined)).toBeUndefined();
  });

  it.skipIf(process.platform !== 'linux')('reads the machine\'s busy time and this process\'s own from /proc/stat', () => {
    const m = cpuMark()!;
    expect(Number.isFinite(m.busy) && m.busy > 0).toBe(true);
    expect(m.own).toBeGreaterThan(0);
    const t0 = performance.now();
    while (performance.now() - t0 < 50) Math.sqrt(t0); // some time of our own, not counted as others'
    const others = otherCores(m)!;
    expect(others).toBeGreaterThanOrEqual(0);
    expect(others).toBeLessThanOrEqual(os.cpus().length);
  });
});
