/** The student targets (quality, distillation gain, frame rate), checked against the measured numbers: value, PASS / MISS and the gap. */
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

function quality(rows: Row[], scale: number, threshold: number, withParams: boolean): TargetResult {
  const r = headlineStudent(rows, scale);
  const params = r?.measured?.params ?? null;
  const base = {
    id: `x${scale}-set5`,
    description: `Set5 ×${scale} student ≥ ${threshold} dB${withParams ? ` with ≤ ${MAX_PARAMS / 1000}K params` : ''}`,
    model: r ? `${r.entry.id} x${scale}` : null,
    measured: r ? set5(r)! : null,
    threshold,
    unit: 'dB',
    note: r ? [params !== null ? `${params.toLocaleString('en-US')} params` : '', steps(r)].filter(Boolean).join('; ') : 'no student measured at this scale yet',
  };
  if (!r) return result(base);
  const paramsOk = !withParams || (params !== null && params <= MAX_PARAMS);
  if (!paramsOk) base.note += ` (over the ${MAX_PARAMS.toLocaleString('en-US')}-parameter budget)`;
  return result(base, base.measured! >= threshold && paramsOk);
}

/** Distillation recipes the gain target compares with from-scratch (each at equal steps); the best one counts. */
export const DISTILL_IDS = ['student-distill', 'student-distill-feature'] as const;

/** One distilled run against the from-scratch run: at equal steps on the evaluated models, else from the logs. */
function gainOf(d: Row, s: Row): { measured: number | null; note: string } {
  const [rd, rs] = [d.entry.run!, s.entry.run!];
  const [qd, qs] = [set5(d), set5(s)];
  if (rd.trainedSteps === rs.trainedSteps && qd !== undefined && qs !== undefined) {
    return { measured: qd - qs, note: `model-best of each: ${qd.toFixed(2)} vs ${qs.toFixed(2)} dB, both trained ${rd.trainedSteps} steps (best at steps ${rd.bestStep ?? '?'} / ${rs.bestStep ?? '?'})` };
  }
  const common = Object.keys(rd.val).map(Number).filter((k) => rs.val[k] !== undefined);
  if (common.length === 0) return { measured: null, note: `no common validation step yet (trained ${rd.trainedSteps} vs ${rs.trainedSteps} steps)` };
  const at = Math.max(...common);
  return {
    measured: rd.val[at] - rs.val[at],
    note:
      `provisional: runs not at equal steps yet (trained ${rd.trainedSteps} vs ${rs.trainedSteps}); value from their logs' Set5 validation ` +
      `at step ${at}: ${rd.val[at].toFixed(2)} vs ${rs.val[at].toFixed(2)} dB`,
  };
}

function kdGain(rows: Row[], scale: number): TargetResult {
  const threshold = 0.15;
  const find = (id: string) => rows.find((r) => r.entry.scale === scale && r.entry.id === id);
  const s = find('student-scratch');
  const distilled = DISTILL_IDS.map(find).filter((r): r is Row => r?.entry.run !== undefined);
  const base = { id: `x${scale}-kd-gain`, description: `×${scale}: distilled beats from-scratch by ≥ ${threshold} dB (Set5) at equal steps`, threshold, unit: 'dB' };
  if (distilled.length === 0 || !s?.entry.run) {
    return result({ ...base, model: `student-distill vs student-scratch x${scale}`, measured: null, note: `needs both runs: ${[distilled.length === 0 && 'distilled', !s?.entry.run && 'from scratch'].filter(Boolean).join(' and ')} not trained yet` });
  }
  const gains = distilled.map((d) => ({ id: d.entry.id, ...gainOf(d, s) }));
  const best = gains.filter((g) => g.measured !== null).sort((a, b) => b.measured! - a.measured!)[0] ?? gains[0];
  const others = gains.filter((g) => g !== best).map((g) => `${g.id}: ${g.measured === null ? 'n/a' : `${g.measured >= 0 ? '+' : ''}${g.measured.toFixed(2)} dB`}`);
  const note = best.note + (others.length ? `; other distillation recipes: ${others.join(', ')}` : '');
  return result({ ...base, model: `${best.id} vs student-scratch x${scale}`, measured: best.measured, note });
}

function fps(rows: Row[], scale: number, threshold: number): TargetResult {
  const r = headlineStudent(rows, scale);
  const f = r?.measured?.fps;
  const note = f
    ? `${r!.measured!.backend}, ${f.msMedian.toFixed(1)} ms median of ${f.runs} frames${othersNote(f.others)}`
    : 'no student frame rate measured at this scale yet';
  return result({ id: `x${scale}-fps`, description: `×${scale} student at 1280×720 ≥ ${threshold} fps`, model: r ? `${r.entry.id} x${scale}` : null, measured: f?.fps ?? null, threshold, unit: 'fps', note });
}

/** Every target, in the issue's order (rows of scales that were not run give "not measured"). */
export function checkTargets(rows: Row[]): TargetResult[] {
  return [quality(rows, 4, 30.9, true), quality(rows, 2, 37.1, false), kdGain(rows, 4), kdGain(rows, 2), fps(rows, 4, 30)];
}
