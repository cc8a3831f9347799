/** The student targets (quality, frame rate, and the distillation page's gain over from-scratch), checked against the measured numbers: value, PASS / MISS and the gap. */
import type { Entry } from './catalog';
import { othersNote } from './machine';
import type { Measured } from './measure';

export interface Row {
  entry: Entry;
  measured?: Measured;
}

export interface TargetResult {
  id: string;
  description: string;
  /** Which model the value is for. */
  model: string | null;
  measured: number | null;
  threshold: number;
  unit: string;
  status: 'PASS' | 'MISS' | 'not measured';
  /** measured − threshold (positive = margin, negative = shortfall). */
  gap: number | null;
  note: string;
}

const MAX_PARAMS = 40_000;
const MID_SIZE_MAX_PARAMS = 150_000;

function set5(r: Row): number | undefined {
  return r.measured?.quality.Set5?.psnr;
}

/** The student a scale's targets are about: the shipped one when measured, else the best measured student. */
export function headlineStudent(rows: Row[], scale: number): Row | undefined {
  const students = rows.filter((r) => r.entry.scale === scale && r.entry.role === 'student' && set5(r) !== undefined);
  return students.find((r) => r.entry.id === 'shipped') ?? students.sort((a, b) => set5(b)! - set5(a)!)[0];
}

function result(t: Omit<TargetResult, 'status' | 'gap'>, pass?: boolean): TargetResult {
  if (t.measured === null) return { ...t, status: 'not measured', gap: null };
  return { ...t, status: pass ?? t.measured >= t.threshold ? 'PASS' : 'MISS', gap: t.measured - t.threshold };
}

function steps(r: Row): string {
  const run = r.entry.run;
  if (!run) return '';
  return `${run.trainedSteps} steps${run.active ? ', still training' : ''}`;
}

function quality(rows: Row[], scale: number, threshold: number): TargetResult {
  const r = headlineStudent(rows, scale);
  const params = r?.measured?.params ?? null;
  const base = {
    id: `x${scale}-set5`,
    description: `Set5 ×${scale} student ≥ ${threshold} dB with ≤ ${MAX_PARAMS / 1000}K params`,
    model: r ? `${r.entry.id} x${scale}` : null,
    measured: r ? set5(r)! : null,
    threshold,
    unit: 'dB',
    note: r ? [params !== null ? `${params.toLocaleString('en-US')} params` : '', steps(r)].filter(Boolean).join('; ') : 'no student measured at this scale yet',
  };
  if (!r) return result(base);
  const paramsOk = params !== null && params <= MAX_PARAMS;
  if (!paramsOk) base.note += ` (over the ${MAX_PARAMS.toLocaleString('en-US')}-parameter budget)`;
  return result(base, base.measured! >= threshold && paramsOk);
}

/** The mid-size ×4 student (the shipped `x4-plus`): a quality bar with a larger parameter budget. */
function midSize(rows: Row[], threshold: number): TargetResult {
  const r = rows.find((x) => x.entry.scale === 4 && x.entry.id === 'shipped-plus' && set5(x) !== undefined);
  const params = r?.measured?.params ?? null;
  const budget = MID_SIZE_MAX_PARAMS;
  const base = {
    id: 'x4-plus-set5',
    description: `Set5 ×4 mid-size student ≥ ${threshold} dB with ≤ ${budget / 1000}K params`,
    model: r ? 'shipped-plus x4' : null,
    measured: r ? set5(r)! : null,
    threshold,
    unit: 'dB',
    note: r ? (params !== null ? `${params.toLocaleString('en-US')} params` : '') : 'x4-plus not measured',
  };
  if (!r) return result(base);
  const paramsOk = params !== null && params <= budget;
  if (!paramsOk) base.note += ` (over the ${budget.toLocaleString('en-US')}-parameter budget)`;
  return result(base, base.measured! >= threshold && paramsOk);
}

/**
 * What distillation from a teacher must add over the same student trained from scratch at equal steps, data and seed
 * (`npm run results:kd` checks it per study).
 */
export const KD_GAIN_TARGET = 0.2;

/** One study of the distillation page: the from-scratch run and the distilled arms, each with its model's Set5 score. */
export interface KdStudyScores {
  title: string;
  base: { run: string; steps: number; set5?: number };
  arms: { run: string; steps: number; set5?: number }[];
}

/** The best distilled arm of a study against its from-scratch run, both trained to the same step. */
export function kdGainTarget(study: KdStudyScores): TargetResult {
  const equal = study.arms.filter((a) => a.steps === study.base.steps && a.set5 !== undefined);
  const base = { id: `kd-gain`, description: `${study.title}: best distilled arm ≥ ${KD_GAIN_TARGET} dB over from scratch (Set5, equal steps)`, threshold: KD_GAIN_TARGET, unit: 'dB' };
  if (study.base.set5 === undefined || equal.length === 0) {
    return result({ ...base, model: null, measured: null, note: 'needs the from-scratch run and a distilled arm trained to the same step' });
  }
  const best = equal.reduce((a, b) => (b.set5! > a.set5! ? b : a));
  const gain = best.set5! - study.base.set5;
  return result({ ...base, model: `${best.run} vs ${study.base.run}`, measured: gain, note: `${best.set5!.toFixed(2)} vs ${study.base.set5.toFixed(2)} dB, ${study.base.steps} steps each` });
}

/** One recipe's output-KD pair (from scratch, distilled) trained with several seeds, each pair at equal steps. */
export interface KdSeedPairs {
  title: string;
  pairs: { seed: number; base: { run: string; steps: number; set5?: number }; kd: { run: string; steps: number; set5?: number } }[];
}

/**
 * The mean over seeds of the distilled run's gain over its from-scratch twin: with two runs of one recipe differing by
 * up to 0.08 dB, one seed's gain says little, and this is the figure a gain target should be read against.
 */
export function kdSeedMeanTarget(group: KdSeedPairs): TargetResult {
  const done = group.pairs.filter((p) => p.base.set5 !== undefined && p.kd.set5 !== undefined && p.kd.steps === p.base.steps);
  const base = { id: 'kd-gain-seed-mean', description: `${group.title}: output KD's gain over from scratch, mean over seeds ≥ ${KD_GAIN_TARGET} dB (Set5, equal steps)`, threshold: KD_GAIN_TARGET, unit: 'dB' };
  if (done.length === 0) return result({ ...base, model: null, measured: null, note: 'no seed has both runs trained to the same step yet' });
  const gains = done.map((p) => p.kd.set5! - p.base.set5!);
  const mean = gains.reduce((a, b) => a + b, 0) / gains.length;
  const list = done.map((p, i) => `seed ${p.seed} ${gains[i] >= 0 ? '+' : ''}${gains[i].toFixed(2)}`).join(', ');
  return result({ ...base, model: `${done.length} seed${done.length > 1 ? 's' : ''}`, measured: mean, note: list });
}

/**
 * A scale's frame-rate bar at 1280×720: for the shipped student, or for the entry `realtime` names (the real-time ×2
 * student `x2-fast`, where `x2` trades frames for quality) when that is measured.
 */
function fps(rows: Row[], scale: number, threshold: number, realtime?: string): TargetResult {
  const fast = realtime ? rows.find((x) => x.entry.scale === scale && x.entry.id === realtime && x.measured?.fps) : undefined;
  const r = fast ?? headlineStudent(rows, scale);
  const f = r?.measured?.fps;
  const note = f
    ? `${r!.measured!.backend}, ${f.msMedian.toFixed(1)} ms median of ${f.runs} frames${othersNote(f.others)}`
    : 'no student frame rate measured at this scale yet';
  return result({ id: `x${scale}-fps`, description: `×${scale} student at 1280×720 ≥ ${threshold} fps`, model: r ? `${r.entry.id} x${scale}` : null, measured: f?.fps ?? null, threshold, unit: 'fps', note });
}

/** Every target of the results page (rows of scales that were not run give "not measured"). */
export function checkTargets(rows: Row[]): TargetResult[] {
  return [quality(rows, 4, 31.3), quality(rows, 2, 37.45), midSize(rows, 31.75), fps(rows, 4, 30), fps(rows, 2, 30, 'shipped-fast')];
}
