/**
 * The distillation page: what each distillation recipe is worth against the same student trained without a teacher,
 * at equal steps, data and seed. For every study it reads the runs' logs (Set5 validation every 500 steps), draws
 * the curves (SVG) and scores each run's exported model with the literature's protocol on Set5 and Set14 (the
 * `sharpen-kd eval` code path).
 *
 *   npm run results:kd                    # writes docs/results/distillation.md, distillation.json and the curves
 *   npm run results:kd -- --no-eval       # logs only (no model scoring), e.g. while runs are still training
 *
 * Runs are read from $SHARPEN_KD_RUNS (default lab/checkpoints/), data from $SHARPEN_KD_DATA (default ../shared/data).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { useBackend } from '../../src/backends/use-backend';
import { evaluateStudent } from '../../src/infer/evaluate';
import { Student } from '../../src/infer/student';
import { writeFileAtomic } from '../../src/io/atomic-write';
import { readRun, type RunInfo } from './results/catalog';
import { targetTable } from './results/report';
import { kdGainTarget, kdSeedMeanTarget, KD_GAIN_TARGET, type TargetResult } from './results/targets';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Arm {
  run: string;
  label: string;
  /** No teacher (the base recipe with another seed): its Δ measures run-to-run noise; it is not a distilled arm. */
  teacherless?: boolean;
}

interface Study {
  id: string;
  title: string;
  scale: number;
  /** What the student is and what all arms share. */
  recipe: string;
  /** The run without a teacher. */
  base: Arm;
  arms: Arm[];
}

/** An output-KD pair: the from-scratch run of a recipe and its twin distilled from EMT, for one seed. */
interface SeedPair {
  scale: 2 | 4;
  width: 16 | 32;
  seed: number;
}

/** The pair's runs: `student-x<scale>-luma<width>x8-{scratch,emt}<steps>k[-seed<seed>]` (seed 1 has no suffix). */
function pairRuns({ scale, width, seed }: SeedPair): { base: string; kd: string } {
  const name = `student-x${scale}-luma${width}x8`;
  const k = scale === 4 ? '8k' : '6k';
  const suffix = seed === 1 ? '' : `-seed${seed}`;
  return { base: `${name}-scratch${k}${suffix}`, kd: `${name}-emt${k}${suffix}` };
}

/**
 * An output-KD pair (from scratch, and output KD from EMT at ×4 for 8000 steps or ×2 for 6000) repeated with another
 * seed: other initial weights, other patches, and the EMT cache of that seed's stream (it depends on the data, not on
 * the student).
 */
function seedRepeat(pair: SeedPair): Study {
  const { scale, width, seed } = pair;
  const { base, kd } = pairRuns(pair);
  const size = width === 16 ? 'luma-detail student 16×8' : 'mid-size luma-detail student 32×8';
  return {
    id: `emt-x${scale}-luma${width}x8-seed${seed}`,
    title: `EMT ×${scale} → ${size}, the output-KD pair again with seed ${seed}`,
    scale,
    recipe: `the ×${scale} ${width}×8 study's from-scratch run and its output-KD arm (\`${pairRuns({ ...pair, seed: 1 }).kd}\`) repeated with seed ${seed}: other initial weights and other patches, so the EMT cache of seed ${seed}'s stream (\`lab/runs/${base}.json\`, \`lab/runs/${kd}.json\`). With the seed-1 pair it says how much of output KD's gain is run-to-run noise`,
    base: { run: base, label: `from scratch (HR only; seed ${seed})` },
    arms: [{ run: kd, label: `output KD from EMT ×${scale} on luma (weight 1, L1; EMT outputs cached for 8192 patches), seed ${seed}` }],
  };
}

/** The recipes whose output-KD pair was trained with several seeds: the mean gain over seeds is their figure. */
const SEED_GROUPS: { title: string; scale: 2 | 4; width: 16 | 32; seeds: number[] }[] = [
  { title: 'EMT ×4 → 16×8, 8000 steps', scale: 4, width: 16, seeds: [1, 2, 3] },
  { title: 'EMT ×4 → 32×8, 8000 steps', scale: 4, width: 32, seeds: [1, 2, 3] },
];

/** The studies, newest first. Every arm shares its base's data, patches, schedule, seed and step count. */
const STUDIES: Study[] = [
  {
    id: 'emt-x4-luma32x8-24k',
    title: 'EMT ×4 → the mid-size ×4 student (luma-detail 32×8, 24000 steps)',
    scale: 4,
    recipe:
      'compact 32×8 (80K parameters), luma detail + bilinear residual, re-parameterized convs; T91 + BSDS200 + Kodak24 + McMaster, 32² LR patches in batches of 16, cosine from 1e-3 (warmup 300), EMA 0.999, 24000 steps, seed 1 (`lab/runs/student-x4-luma32x8-scratch24k.json`; both runs did their first steps on slower training kernels of the same arithmetic)',
    base: { run: 'student-x4-luma32x8-scratch24k', label: 'from scratch (HR only)' },
    arms: [{ run: 'student-x4-luma32x8-emt24k', label: 'output KD from EMT ×4 on luma (weight 1, L1; EMT outputs cached for 16384 patches): the shipped `x4-plus`' }],
  },
  {
    id: 'emt-x4-luma16x8-24k',
    title: 'EMT ×4 → the shipped ×4 recipe (luma-detail 16×8, 24000 steps)',
    scale: 4,
    recipe:
      'compact 16×8, luma detail + bilinear residual, re-parameterized convs; T91 + BSDS200 + Kodak24 + McMaster, 32² LR patches in batches of 16, cosine from 1e-3 (warmup 300), EMA 0.999, 24000 steps, seed 1 (`lab/runs/student-x4-luma16x8.json`; continued to 96000 steps it is the shipped `x4`)',
    base: { run: 'student-x4-luma16x8', label: 'from scratch (HR only)' },
    arms: [{ run: 'student-x4-luma16x8-emt24k', label: 'output KD from EMT ×4 on luma (weight 1, L1; the 8192-patch cache of the 8000-step study): the shipped `x4` until the 96000-step scratch run replaced it' }],
  },
  {
    id: 'emt-x4-luma16x8',
    title: 'EMT ×4 → luma-detail student 16×8 (21.5K parameters), from scratch',
    scale: 4,
    recipe:
      'compact 16×8, luma detail + bilinear residual, re-parameterized convs; T91 + BSDS200 + Kodak24 + McMaster, 32² LR patches in batches of 16, cosine from 1e-3 (warmup 300), EMA 0.999, 8000 steps, seed 1 (`lab/runs/student-x4-luma16x8-scratch8k.json`)',
    base: { run: 'student-x4-luma16x8-scratch8k', label: 'from scratch (HR only)' },
    arms: [
      { run: 'student-x4-luma16x8-emt8k', label: 'output KD from EMT ×4 on luma (weight 1, L1; EMT outputs cached for 8192 patches)' },
      { run: 'student-x4-luma16x8-emt8k-feature', label: 'the same + feature KD from EMT\'s blocks 2 / 4 / 6, weight 1 (1×1 adapters; cached features, so no flips; stopped)' },
      { run: 'student-x4-luma16x8-emt8k-feature005', label: 'the same with the feature term at weight 0.05 (its gradient then about that of the pixel and output terms)' },
      { run: 'student-x4-luma16x8-emt8k-noaug', label: 'its control: output KD alone from the same feature cache, replayed as stored (no flips, `cacheAugment: false`)' },
      { run: 'student-x4-luma16x8-emt8k-cache16k', label: 'output KD as above, EMT outputs cached for twice the patches (16384: each comes back 8 times in 8000 steps, not 16)' },
      { run: 'student-x4-luma16x8-emt8k-extra2', label: 'output KD + as many extra inputs labelled by EMT: the training sets shrunk by 2 (16384 cached patches)' },
      { run: 'student-x4-luma16x8-emtonly8k', label: 'EMT\'s predictions alone, L1 on luma (no HR term; the same cache)' },
      { run: 'student-x4-luma16x8-emtmse8k', label: 'EMT\'s predictions alone, squared error on luma (no HR term; the same cache)' },
      { run: 'student-x4-luma16x8-emt8k-bounded', label: 'teacher-bounded output KD (`--output-bounded`): the output term only where EMT is closer to HR than the student, value by value (the same cache)' },
      { run: 'student-x4-luma16x8-ta8k', label: 'EMT through an assistant: output and feature KD (weight 1 each; three body taps, 1×1 adapters 16 → 32) from the 32×8 student distilled from EMT ×4 (the shipped `x4-plus`, 31.42 dB), run on every batch' },
      { run: 'student-x4-luma16x8-ta8k-scratch-assistant', label: 'its control: the same with an assistant that never saw EMT (the 32×8 trained from scratch for 24000 steps, 31.34 dB)' },
      { run: 'student-x4-luma16x8-emt8k-ta', label: 'both: output KD from EMT ×4 (the 8192-patch cache, flipped) and feature KD from the EMT-distilled assistant (`--feature-teacher`)' },
      { run: 'student-x4-luma16x8-emt8k-context8', label: 'output KD as emt8k, with EMT\'s cached targets made with 8 LR pixels of context around each 32² patch (`--cache-context 8`: EMT on bare 32² tiles of Set5 scores 32.43 dB, with the context 32.62, on whole images 32.64)' },
      { run: 'student-x4-luma16x8-scratch8k-seed2', label: 'seed control, no teacher: the from-scratch run with seed 2 (other initial weights and patches); its Δ is run-to-run noise', teacherless: true },
      { run: 'student-x4-luma16x8-scratch8k-seed3', label: 'seed control, no teacher: the from-scratch run with seed 3', teacherless: true },
    ],
  },
  seedRepeat({ scale: 4, width: 16, seed: 2 }),
  seedRepeat({ scale: 4, width: 16, seed: 3 }),
  {
    id: 'emt-x4-luma32x8',
    title: 'EMT ×4 → mid-size luma-detail student 32×8 (80K parameters), from scratch',
    scale: 4,
    recipe:
      'the 16×8 study\'s recipe at width 32 (compact 32×8, luma detail + bilinear residual, re-parameterized convs; same data, patches, schedule, 8000 steps, seed 1; `lab/runs/student-x4-luma32x8-scratch8k.json`)',
    base: { run: 'student-x4-luma32x8-scratch8k', label: 'from scratch (HR only)' },
    arms: [
      { run: 'student-x4-luma32x8-emt8k', label: 'output KD from EMT ×4 on luma (weight 1, L1; the 16×8 study\'s cache of 8192 patches)' },
      { run: 'student-x4-luma32x8-emtmse8k', label: 'EMT\'s predictions alone, squared error on luma (no HR term; the same cache; stopped at 2946 and resumed with faster training kernels)' },
      { run: 'student-x4-luma32x8-emt8k-extra2', label: 'output KD + as many extra inputs labelled by EMT: the training sets shrunk by 2 (the 16×8 study\'s 16384-patch cache)' },
      { run: 'student-x4-luma32x8-emt8k-feature005', label: 'output KD + feature KD from EMT\'s blocks 2 / 4 / 6 through 1×1 adapters, weight 0.05 (the 16×8 study\'s feature cache)' },
      { run: 'student-x4-luma32x8-emt8k-noaug', label: 'its control: output KD alone from the same feature cache, replayed as stored (no flips, `cacheAugment: false`)' },
    ],
  },
  seedRepeat({ scale: 4, width: 32, seed: 2 }),
  seedRepeat({ scale: 4, width: 32, seed: 3 }),
  {
    id: 'emt-x4-luma40x8',
    title: 'EMT ×4 → mid-size luma-detail student 40×8 (124K parameters), from scratch',
    scale: 4,
    recipe:
      'the 16×8 study\'s recipe at width 40 (compact 40×8, luma detail + bilinear residual, re-parameterized convs; same data, patches, schedule, 8000 steps, seed 1; `lab/runs/student-x4-luma40x8-scratch8k.json`)',
    base: { run: 'student-x4-luma40x8-scratch8k', label: 'from scratch (HR only)' },
    arms: [{ run: 'student-x4-luma40x8-emt8k', label: 'output KD from EMT ×4 on luma (weight 1, L1; the 16×8 study\'s cache of 8192 patches)' }],
  },
  {
    id: 'oracle-x1-blind',
    title: 'Privileged targets and an assistant → the real-time blind ×1 student 16×6 (unshuffle 4), from scratch',
    scale: 1,
    recipe:
      'compact 16×6 at ×1, pixel unshuffle 4, luma detail, re-parameterized convs; T91 + BSDS200 + Kodak24 + McMaster, 128² patches with the blind ×1 degradations (random blur, noise, JPEG) in batches of 16, cosine from 1e-3 (warmup 300), EMA 0.999, 20000 steps, seed 1; validation and scores on the blind ×1 protocol (`lab/runs/student-x1-blind.json`)',
    base: { run: 'student-x1-blind', label: 'from scratch (HR only)' },
    arms: [
      { run: 'student-x1-blind-oracle', label: 'the same + an output term (weight 0.5, luma) towards the oracle: each patch\'s Wiener deconvolution with its own true kernel' },
      { run: 'student-x1-blind-ta', label: 'the same + output and feature KD (weight 1 each; 1×1 adapters 16 → 32) from the student at width 32 (student-x1-blind-32x6, 32.19 dB), run on every batch; stopped' },
    ],
  },
  {
    id: 'emt-x2-luma16x8',
    title: 'EMT ×2 → luma-detail student 16×8, from scratch',
    scale: 2,
    recipe:
      'compact 16×8, luma detail + bilinear residual, re-parameterized convs; T91 + BSDS200 + Kodak24 + McMaster, 48² LR patches in batches of 16, cosine from 1e-3 (warmup 300), EMA 0.999, 6000 steps, seed 1 (`lab/runs/student-x2-luma16x8-scratch6k.json`)',
    base: { run: 'student-x2-luma16x8-scratch6k', label: 'from scratch (HR only)' },
    arms: [
      { run: 'student-x2-luma16x8-emt6k', label: 'output KD from EMT ×2 on luma (weight 1, L1; EMT outputs cached for 8192 patches)' },
      { run: 'student-x2-luma16x8-emt6k-feature005', label: 'output KD + feature KD from EMT ×2\'s blocks 2 / 4 / 6 through 1×1 adapters, weight 0.05 (outputs and features cached for the same 8192 patches, no flips)' },
      { run: 'student-x2-luma16x8-emt6k-noaug', label: 'its control: output KD alone from the same feature cache, replayed as stored (no flips, `cacheAugment: false`)' },
      { run: 'student-x2-luma16x8-emt6k-extra2', label: 'output KD + as many extra inputs labelled by EMT ×2: the training sets shrunk by 2 (16384-patch cache)' },
      { run: 'student-x2-luma16x8-ta6k', label: 'EMT ×2 through an assistant: output and feature KD (weight 1 each; three body taps, 1×1 adapters 16 → 32) from the 32×8 student distilled from EMT ×2 (student-x2-luma32x8-emt6k, 37.33 dB), run on every batch' },
    ],
  },
  {
    id: 'emt-x2-luma32x8',
    title: 'EMT ×2 → mid-size luma-detail student 32×8 (76K parameters), from scratch',
    scale: 2,
    recipe:
      'compact 32×8, luma detail + bilinear residual, re-parameterized convs; T91 + BSDS200 + Kodak24 + McMaster, 48² LR patches in batches of 16, cosine from 1e-3 (warmup 300), EMA 0.999, 6000 steps, seed 1 (`lab/runs/student-x2-luma32x8-scratch6k.json`)',
    base: { run: 'student-x2-luma32x8-scratch6k', label: 'from scratch (HR only)' },
    arms: [{ run: 'student-x2-luma32x8-emt6k', label: "output KD from EMT ×2 on luma (weight 1, L1; the 16×8 study's cache of 8192 patches)" }],
  },
  {
    id: 'emt-x4-finetune',
    title: 'EMT ×4 → the shipped ×4 student, fine-tuned from its step 24000',
    scale: 4,
    recipe: 'the shipped ×4 (luma 16×8) continued 3000 steps: MSE, 48² LR patches in batches of 8, cosine 1e-4 → 1e-6 (`lab/runs/student-x4-luma16x8-ft-control.json`)',
    base: { run: 'student-x4-luma16x8-ft-control', label: 'fine-tune, HR only' },
    arms: [{ run: 'student-x4-luma16x8-ft-emt', label: 'fine-tune + output KD from EMT ×4 on RGB (weight 1, L1; 2048 cached patches; stopped at 26540)' }],
  },
  {
    id: 'resnet-x4-compact16x6',
    title: 'Earlier teachers ×4 → compact 16×6 student (21.4K parameters), from scratch',
    scale: 4,
    recipe: 'compact 16×6, RGB detail; T91 + BSDS200, 32² LR patches in batches of 16, cosine from 1e-3, EMA 0.999, 8000 steps (`lab/runs/student-x4-scratch.json`)',
    base: { run: 'student-x4-scratch', label: 'from scratch (HR only)' },
    arms: [
      { run: 'student-x4-distill', label: 'output KD from the ResNet-50 U-Net teacher (30.44 dB; ×8 self-ensemble targets)' },
      { run: 'student-x4-distill-teacher-only', label: 'the same, teacher targets only (no HR term)' },
      { run: 'student-x4-cache-control', label: 'control: HR loss only, on the distilled run\'s 8192 cached patches' },
      { run: 'student-x4-distill-feature', label: 'feature KD from the shipped student (three taps, no adapters)' },
    ],
  },
  {
    id: 'resnet-x2-compact16x6',
    title: 'Earlier teachers ×2 → compact 16×6 student (16.2K parameters), from scratch',
    scale: 2,
    recipe: 'compact 16×6, RGB detail; T91 + BSDS200, 48² LR patches, cosine from 1e-3, EMA 0.999, 6000 steps (`lab/runs/student-x2-scratch.json`)',
    base: { run: 'student-x2-scratch', label: 'from scratch (HR only)' },
    arms: [
      { run: 'student-x2-distill', label: 'output KD from the ResNet-50 U-Net teacher (36.79 dB; ×8 self-ensemble targets)' },
      { run: 'student-x2-distill-feature', label: 'feature KD from the shipped student (three taps, no adapters)' },
    ],
  },
];

interface ArmResult extends Arm {
  info?: RunInfo;
  /** Set5 / Set14 of the exported model, literature protocol. */
  quality?: Record<string, number>;
}

const COLORS = ['#444', '#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e'];

/** A line chart of Set5 validation PSNR against steps, one line per run. */
function curvesSvg(study: Study, arms: ArmResult[]): string {
  const series = arms.filter((a) => a.info && Object.keys(a.info.val).length > 0).map((a) => ({ label: a.label, pts: Object.entries(a.info!.val).map(([k, v]) => [Number(k), v] as const).sort((x, y) => x[0] - y[0]) }));
  const all = series.flatMap((s) => s.pts);
  const [W, H, L, R, T, B] = [720, 400, 60, 20, 20, 40 + 18 * series.length];
  const x0 = Math.min(...all.map((p) => p[0]));
  const x1 = Math.max(...all.map((p) => p[0]));
  const y0 = Math.floor(Math.min(...all.map((p) => p[1])) * 10) / 10;
  const y1 = Math.ceil(Math.max(...all.map((p) => p[1])) * 10) / 10;
  const sx = (v: number) => L + ((v - x0) / Math.max(1, x1 - x0)) * (W - L - R);
  const sy = (v: number) => T + (1 - (v - y0) / Math.max(1e-9, y1 - y0)) * (H - T - B);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    out.push(`<line x1="${L}" x2="${W - R}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"/>`, `<text x="${L - 6}" y="${sy(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  const tick = [500, 1000, 2000, 2500, 5000, 10000].find((t) => (x1 - x0) / t <= 8) ?? 20000;
  for (let v = Math.ceil(x0 / tick) * tick; v <= x1; v += tick) out.push(`<text x="${sx(v)}" y="${H - B + 16}" text-anchor="middle">${v}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - B + 32}" text-anchor="middle">step</text>`, `<text x="14" y="${T + (H - T - B) / 2}" transform="rotate(-90 14 ${T + (H - T - B) / 2})" text-anchor="middle">Set5 Y-PSNR (dB, validation)</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    const ly = H - B + 40 + 18 * i;
    out.push(`<line x1="${L}" x2="${L + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"/>`, `<text x="${L + 30}" y="${ly}">${s.label.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const f2 = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(2));
const signed = (v: number | undefined) => (v === undefined ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);

function studyMarkdown(study: Study, rows: ArmResult[], svg: string | undefined): string[] {
  const base = rows[0];
  const steps = [...new Set(rows.flatMap((r) => Object.keys(r.info?.val ?? {}).map(Number)))].sort((a, b) => a - b);
  const first = steps[0];
  // A few columns: the first validation, a couple in between, the last common one.
  const picks = [...new Set([first, ...[0.25, 0.5].map((q) => steps[Math.floor(q * (steps.length - 1))]), steps[steps.length - 1]])].filter((s) => s !== undefined);
  const out = [`### ${study.title}`, '', study.recipe, ''];
  out.push(`| run | recipe | steps | ${picks.map((s) => `val @${s}`).join(' | ')} | Δ vs ${base.label} at the last common step | model Set5 | model Set14 |`);
  out.push(`|---|---|---|${picks.map(() => '---|').join('')}---|---|---|`);
  for (const r of rows) {
    if (!r.info) {
      out.push(`| ${r.run} | ${r.label} | not run yet | ${picks.map(() => '–').join(' | ')} | | – | – |`);
      continue;
    }
    const common = Object.keys(r.info.val).map(Number).filter((k) => base.info?.val[k] !== undefined);
    const at = common.length ? Math.max(...common) : undefined;
    const delta = r === base || at === undefined ? undefined : r.info.val[at] - base.info!.val[at];
    const deltaText = r === base ? '' : at === undefined ? 'no common step' : `${signed(delta)} dB (step ${at})`;
    out.push(
      `| ${r.run} | ${r.label} | ${r.info.trainedSteps}${typeof r.info.config?.targetSteps === 'number' && r.info.trainedSteps < r.info.config.targetSteps ? ` of ${r.info.config.targetSteps}` : ''} | ${picks.map((s) => f2(r.info!.val[s])).join(' | ')} | ${deltaText} | ${r.quality ? `${f2(r.quality.Set5)} (${r.info.model})` : '–'} | ${f2(r.quality?.Set14)} |`,
    );
  }
  if (svg) out.push('', `![Set5 validation PSNR against steps: ${study.title}](${svg})`);
  out.push('');
  return out;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { 'no-eval': { type: 'boolean' }, out: { type: 'string' } }, strict: true });
  const runsDir = path.resolve(root, process.env.SHARPEN_KD_RUNS ?? 'lab/checkpoints');
  const dataDir = path.resolve(root, process.env.SHARPEN_KD_DATA ?? '../shared/data');
  const outDir = path.resolve(root, args.out ?? 'docs/results');
  mkdirSync(outDir, { recursive: true });
  const doEval = !args['no-eval'];
  if (doEval) await useBackend('wasm', { trainingKernels: false });
  const t0 = performance.now();
  const md = [
    '# Distillation',
    '',
    `Generated by \`npm run results:kd${doEval ? '' : ' -- --no-eval'}\` (lab/scripts/results-kd.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    'What each distillation recipe is worth against the same student trained without a teacher, at equal steps, data and',
    'seed. "val @N" is the Set5 validation logged at step N (the EMA weights, the literature protocol); "model" is the',
    'exported model (model-best, else model-last) scored with `sharpen-kd eval`. Runs are `lab/runs/<run>.json` configs;',
    'their logs are `lab/checkpoints/<run>/log.jsonl`. The curves plot every validation.',
    '',
  ];
  const json: Record<string, unknown>[] = [];
  const sections: string[] = [];
  const targets: TargetResult[] = [];
  const scored = new Map<string, ArmResult>();
  for (const study of STUDIES) {
    const rows: ArmResult[] = [];
    for (const arm of [study.base, ...study.arms]) {
      const dir = path.join(runsDir, arm.run);
      const info = existsSync(dir) ? readRun(dir) : undefined;
      const row: ArmResult = { ...arm, info };
      if (info && doEval) {
        row.quality = {};
        using student = await Student.load(path.join(dir, info.model), { backend: 'auto' });
        for (const set of ['Set5', 'Set14']) {
          row.quality[set] = (await evaluateStudent(student, path.join(dataDir, set, 'HR'), { scale: study.scale })).psnr;
        }
        process.stderr.write(`${arm.run}: Set5 ${row.quality.Set5.toFixed(3)} / Set14 ${row.quality.Set14.toFixed(3)} (${info.model})\n`);
      }
      rows.push(row);
    }
    const withCurves = rows.some((r) => r.info && Object.keys(r.info.val).length > 1);
    const svgName = withCurves ? `distillation-${study.id}.svg` : undefined;
    if (svgName) await writeFileAtomic(path.join(outDir, svgName), curvesSvg(study, rows));
    sections.push(...studyMarkdown(study, rows, svgName));
    if (study.id.startsWith('emt-') && study.base.label.startsWith('from scratch')) {
      const scores = (r: ArmResult) => ({ run: r.run, steps: r.info?.trainedSteps ?? 0, set5: r.quality?.Set5 });
      targets.push(kdGainTarget({ title: study.title, base: scores(rows[0]), arms: rows.slice(1).filter((r) => !r.teacherless).map(scores) }));
    }
    json.push({ ...study, runs: rows.map((r) => ({ run: r.run, label: r.label, trainedSteps: r.info?.trainedSteps, model: r.info?.model, val: r.info?.val, quality: r.quality })) });
    for (const r of rows) scored.set(r.run, r);
  }
  const seedSection = ['## Over seeds', '', 'Output KD\'s gain for the pairs trained with more than one seed (each pair: the from-scratch run and its', 'distilled twin, same seed, equal steps; model scores). One seed\'s gain is within the spread of the from-scratch runs', 'alone, so the mean over seeds is the figure to read.', ''];
  seedSection.push('| recipe | seed | from scratch, Set5 / Set14 | output KD from EMT, Set5 / Set14 | gain, Set5 / Set14 |', '|---|---|---|---|---|');
  for (const g of SEED_GROUPS) {
    const pairs = g.seeds.map((seed) => {
      const runs = pairRuns({ scale: g.scale, width: g.width, seed });
      const at = (run: string) => ({ run, steps: scored.get(run)?.info?.trainedSteps ?? 0, set5: scored.get(run)?.quality?.Set5, set14: scored.get(run)?.quality?.Set14 });
      return { seed, base: at(runs.base), kd: at(runs.kd) };
    });
    const gains: [number, number][] = [];
    for (const p of pairs) {
      const both = p.base.set5 !== undefined && p.kd.set5 !== undefined && p.base.steps === p.kd.steps;
      const g5 = both ? p.kd.set5! - p.base.set5! : undefined;
      const g14 = both ? p.kd.set14! - p.base.set14! : undefined;
      if (g5 !== undefined) gains.push([g5, g14!]);
      seedSection.push(`| ${g.title} | ${p.seed} | ${f2(p.base.set5)} / ${f2(p.base.set14)} | ${f2(p.kd.set5)} / ${f2(p.kd.set14)} | ${signed(g5)} / ${signed(g14)} |`);
    }
    if (gains.length > 1) {
      const mean = (i: 0 | 1) => gains.reduce((a, x) => a + x[i], 0) / gains.length;
      seedSection.push(`| ${g.title} | **mean of ${gains.length}** | | | **${signed(mean(0))} / ${signed(mean(1))}** |`);
    }
    if (doEval) targets.push(kdSeedMeanTarget({ title: g.title, pairs }));
  }
  seedSection.push('');
  if (doEval) {
    md.push('## Targets', '', `Each study's best distilled arm against its from-scratch run, both trained to the same step, and the mean over seeds where a pair was repeated (model Set5; target ≥ ${KD_GAIN_TARGET} dB).`, '', ...targetTable(targets), '');
  }
  if (doEval) md.push(...seedSection);
  md.push(...sections);
  await writeFileAtomic(path.join(outDir, 'distillation.md'), `${md.join('\n')}\n`);
  await writeFileAtomic(path.join(outDir, 'distillation.json'), `${JSON.stringify({ generated: new Date().toISOString(), targets, studies: json }, null, 1)}\n`);
  process.stderr.write(`wrote ${path.relative(root, path.join(outDir, 'distillation.md'))} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`results:kd: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
