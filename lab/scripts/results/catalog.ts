/**
 * What the results page measures: for each scale, the baselines, the teachers and peers, and the students, found
 * on disk (`lab/checkpoints/<run>/model-best`, `models/x<s>`) or in node_modules (UpscalerJS packages). Anything
 * missing becomes an entry with a `missing` reason instead of an error.
 */
import { existsSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageDir } from '../../../src/models/pretrained-teachers';
import { X1_BASELINES, type X1BaselineName } from '../../../src/classical/x1-baselines';
import type { X1Protocol } from '../../../src/data/x1-protocol';

/** How an entry produces its output. */
export type Source =
  | { kind: 'bicubic' } // MATLAB imresize through the `bicubic` Student
  | { kind: 'lanczos3' } // sharp resize, kernel lanczos3
  | { kind: 'x1-baseline'; name: X1BaselineName } // scale 1: a classical baseline of src/classical/x1-baselines.ts
  | { kind: 'saved'; dir: string } // a saved TF.js layers model folder
  | { kind: 'pretrained'; name: 'esrgan-slim' | 'esrgan-medium' | 'emt-x2' | 'emt-x3' | 'emt-x4' };

/** A training run folder, as its log and checkpoint header describe it. */
export interface RunInfo {
  dir: string;
  /** Last step in log.jsonl (steps trained so far). */
  trainedSteps: number;
  /** Step and Set5 validation PSNR of model-best (the best validation in the log). */
  bestStep?: number;
  bestValPsnr?: number;
  /** Validation PSNR by step, for comparisons at equal steps. */
  val: Record<number, number>;
  /** log.jsonl written in the last 15 minutes and the planned steps (when recorded) not reached: probably still training. */
  active: boolean;
  /** Which exported model was measured. */
  model: 'model-best' | 'model-last';
  /** `meta.user` of last.ckpt (the CLI's config: arch, width, teacher, ...). */
  config?: Record<string, unknown>;
}

export type Role = 'baseline' | 'reference' | 'teacher' | 'peer' | 'student';

export interface Entry {
  /** Stable id used by `--only` (e.g. `student-scratch`) and in results.json (with the scale). */
  id: string;
  scale: number;
  role: Role;
  label: string;
  source?: Source;
  run?: RunInfo;
  /** Why this entry is not measured ("not trained yet", "package not installed"). */
  missing?: string;
  /** Scale 1: the protocol its quality is measured with (default blind). */
  protocol?: X1Protocol;
  /** Quality only, no frame rate (a second row of a model measured above). */
  qualityOnly?: boolean;
}

/** Every id `--only` accepts. */
export const ENTRY_IDS = ['bicubic', 'lanczos3', 'identity', 'unsharp', 'unsharp-tuned', 'deconv-blind', 'deconv-oracle', 'emt', 'teacher', 'esrgan-slim', 'esrgan-medium', 'student-scratch', 'student-distill', 'student-cache-control', 'student-long', 'student-unshuffle', 'student-wide', 'student-reparam', 'student-reparam-long', 'student-extra', 'student-finetune', 'student-distill-half', 'student-distill-teacher-only', 'student-distill-feature', 'student-grow', 'student-luma-reparam', 'student-luma', 'student-luma-finetune', 'student-blind', 'student-blind-32x6', 'student-blind-gates', 'student-blind-gates-psnr', 'student-blind-gates-psnr-sharp', 'student-blind-gates-psnr-sharp-expand16', 'shipped', 'shipped-plus', 'shipped-fast', 'shipped-gaussian', 'identity-sharp', 'deconv-blind-sharp', 'student-blind-gates-sharp', 'student-blind-gates-psnr-sharp-sharp', 'shipped-sharp'] as const;

/** `meta.user` of a checkpoint, read from its header only (the tensors can be large). */
function checkpointConfig(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(12);
    readSync(fd, head, 0, 12, 0);
    const len = head.readUInt32LE(8);
    if (len > 16 << 20) return undefined;
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, 12);
    const h = JSON.parse(buf.toString('utf8')) as { meta?: { user?: Record<string, unknown>; kind?: string; steps?: number } };
    return { kind: h.meta?.kind, targetSteps: h.meta?.steps, ...(h.meta?.user ?? {}) };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** `schedule.steps` of lab/runs/<run>.json, if that config exists and says. */
function runConfigSteps(run: string): number | undefined {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'runs', `${run}.json`);
  try {
    const steps = (JSON.parse(readFileSync(file, 'utf8')) as { schedule?: { steps?: unknown } }).schedule?.steps;
    return typeof steps === 'number' ? steps : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a run folder; undefined when it has no exported model yet. */
export function readRun(dir: string): RunInfo | undefined {
  const model = existsSync(path.join(dir, 'model-best', 'model.json')) ? 'model-best' : existsSync(path.join(dir, 'model-last', 'model.json')) ? 'model-last' : undefined;
  if (!model) return undefined;
  const logFile = path.join(dir, 'log.jsonl');
  const info: RunInfo = { dir, trainedSteps: 0, val: {}, active: false, model };
  if (existsSync(logFile)) {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let row: { step?: number; valPsnr?: number };
      try {
        row = JSON.parse(line);
      } catch {
        continue; // a line being appended right now
      }
      if (typeof row.step !== 'number') continue;
      info.trainedSteps = Math.max(info.trainedSteps, row.step);
      if (typeof row.valPsnr === 'number') {
        info.val[row.step] = row.valPsnr;
        if (info.bestValPsnr === undefined || row.valPsnr > info.bestValPsnr) [info.bestStep, info.bestValPsnr] = [row.step, row.valPsnr];
      }
    }
    info.active = Date.now() - statSync(logFile).mtimeMs < 15 * 60_000;
  }
  info.config = checkpointConfig(path.join(dir, 'last.ckpt'));
  // A run that reached its planned steps is finished, however recent its log (a fresh checkout dates every file
  // now): the steps come from its checkpoint, or from its run config (lab/runs/<folder>.json) when it has none.
  const target = info.config?.targetSteps ?? runConfigSteps(path.basename(dir));
  if (typeof target === 'number' && info.trainedSteps >= target) info.active = false;
  return info;
}

function runEntry(root: string, id: string, scale: number, role: Role, label: string, run: string): Entry {
  const dir = path.join(root, 'lab', 'checkpoints', run);
  const info = readRun(dir);
  if (!info) return { id, scale, role, label, missing: `not trained yet (lab/checkpoints/${run}/model-best missing)` };
  return { id, scale, role, label, run: info, source: { kind: 'saved', dir: path.join(dir, info.model) } };
}

/** The entries for one scale, in table order. */
export async function entriesFor(root: string, scale: number): Promise<Entry[]> {
  const out: Entry[] = [];
  if (scale === 1) {
    // The classical baselines of the blind benchmark (library code: src/classical/), then the oracle.
    const x1: Array<[(typeof ENTRY_IDS)[number], X1BaselineName, Role]> = [
      ['identity', 'input', 'baseline'],
      ['unsharp', 'sharp-default', 'baseline'],
      ['unsharp-tuned', 'sharp-tuned', 'baseline'],
      ['deconv-blind', 'wiener-blind', 'baseline'],
      ['deconv-oracle', 'wiener-oracle', 'reference'],
    ];
    for (const [id, name, role] of x1) out.push({ id, scale, role, label: X1_BASELINES[name], source: { kind: 'x1-baseline', name } });
  } else {
    out.push({ id: 'bicubic', scale, role: 'baseline', label: 'bicubic (MATLAB imresize)', source: { kind: 'bicubic' } });
    out.push({ id: 'lanczos3', scale, role: 'baseline', label: 'sharp lanczos3', source: { kind: 'lanczos3' } });
  }
  if (scale > 1) {
    // The EMT teacher, from the authors' checkpoints under $SHARPEN_KD_TEACHERS (default ../shared/teachers).
    const teachers = path.resolve(root, process.env.SHARPEN_KD_TEACHERS ?? '../shared/teachers');
    const file = path.join(teachers, 'EMT', `EMT_LSR_x${scale}.pth`);
    out.push({
      id: 'emt',
      scale,
      role: 'teacher',
      label: 'EMT teacher (Zheng et al. 2023, authors\' weights)',
      ...(existsSync(file) ? { source: { kind: 'pretrained', name: `emt-x${scale}` as 'emt-x2' | 'emt-x4' } } : { missing: `${file} is missing (set SHARPEN_KD_TEACHERS)` }),
    });
  }
  // The ResNet-50 U-Net teacher and the output-KD student from it, listed where they were trained (not at ×1).
  const resnet = runEntry(root, 'teacher', scale, 'teacher', 'ResNet-50 U-Net teacher (ours)', `teacher-x${scale}`);
  if (!resnet.missing) out.push(resnet);
  if (scale > 1) {
    for (const name of ['esrgan-slim', 'esrgan-medium'] as const) {
      const installed = await findPackageDir(`@upscalerjs/${name}`);
      out.push({
        id: name,
        scale,
        role: 'peer',
        label: `UpscalerJS ${name}`,
        ...(installed ? { source: { kind: 'pretrained', name } } : { missing: `@upscalerjs/${name} is not installed (npm install @upscalerjs/${name})` }),
      });
    }
  }
  out.push(runEntry(root, 'student-scratch', scale, 'student', 'student, from scratch (HR only)', `student-x${scale}-scratch`));
  const distilled = runEntry(root, 'student-distill', scale, 'student', 'student, distilled', `student-x${scale}-distill`);
  if (!distilled.missing) out.push(distilled);
  // Control of the distillation ablation, listed only where it was run: the distilled run's recipe and cached
  // patches with the teacher term weighted 1e-6, i.e. the HR loss on the same fixed patch set.
  const control = runEntry(root, 'student-cache-control', scale, 'student', 'student, HR loss on the cached patches only (control)', `student-x${scale}-cache-control`);
  if (!control.missing) out.push(control);
  // The long-schedule run (examples/recipes/student-long.sh: the from-scratch run continued with a second, longer
  // cosine cycle), listed where it was run; the shipped models come from it.
  const long = runEntry(root, 'student-long', scale, 'student', 'student, from scratch, long schedule', `student-x${scale}-long`);
  if (!long.missing) out.push(long);
  // Optional rows, listed where they were run: the real-time pixel-unshuffle variant (examples/recipes/student-fast.sh),
  // the wider ×2 student (student-wide.sh), the from-scratch recipe with re-parameterizable convs (student.sh --reparam)
  // its third cycle with more training data (student-extra.sh) and a fine-tune after it (student-finetune.sh), and distillation variants (distill.sh with --loss-output 0.5, or --loss-pixel 0: teacher targets only; and
  // distill-feature.sh: feature KD from the shipped student), the 32×8 student grown from the shipped one (student-grow.sh),
  // and the luma-detail students (student.sh --reparam --detail luma: the equal-steps ablation; student-luma.sh: 16×8,
  // all four training sets, and its MSE fine-tune), and at ×1 the real-time student trained on the blind degradations
  // (lab/runs/student-x1-blind.json), its 32×6 twin (lab/runs/student-x1-blind-32x6.json) and its twin with image-wide
  // gates (lab/runs/student-x1-blind-gates.json), that one trained on the PSNR loss (student-x1-blind-gates-psnr.json) and on
  // the PSNR loss with 15% of its patches unblurred (student-x1-blind-gates-psnr-sharp.json), and that one with 16× wide
  // re-parameterizable blocks (student-x1-blind-gates-psnr-sharp-expand16.json).
  const optional: Array<[(typeof ENTRY_IDS)[number], string, string]> = [
    ['student-unshuffle', 'student with pixel-unshuffle front end (fast)', 'unshuffle'],
    ['student-wide', 'wider student: compact 32×8, pixel-unshuffle 2', 'wide'],
    ['student-reparam', 'student, from scratch, re-parameterized convs (--reparam)', 'reparam'],
    ['student-reparam-long', 'student, re-parameterized convs, long schedule', 'reparam-long'],
    ['student-extra', 'student, re-parameterized, third cycle with Kodak24 + McMaster', 'extra'],
    ['student-finetune', 'student, re-parameterized, third cycle + MSE fine-tune on larger patches', 'finetune'],
    ['student-distill-half', 'student, distilled, teacher term weight 0.5', 'distill-half'],
    ['student-distill-teacher-only', 'student, distilled, teacher targets only (no HR term)', 'distill-teacher-only'],
    ['student-distill-feature', 'student, distilled from the shipped student (feature KD)', 'distill-feature'],
    ['student-grow', 'compact 32×8 grown from the shipped student (Net2Net, --init)', 'grow32x8'],
    ['student-luma-reparam', 'student, from scratch, re-parameterized, luma detail + bilinear residual', 'luma-reparam'],
    ['student-luma', 'luma-detail student 16×8, re-parameterized, four training sets', 'luma16x8'],
    ['student-luma-finetune', 'luma-detail student 16×8 + MSE fine-tune on larger patches', 'luma16x8-finetune'],
    ['student-blind', 'real-time blind ×1 student: compact 16×6, pixel-unshuffle 4, luma detail, re-parameterized', 'blind'],
    ['student-blind-32x6', 'the same blind ×1 student at width 32 (compact 32×6): about 3× the arithmetic', 'blind-32x6'],
    ['student-blind-gates', 'the blind ×1 student 16×6 with image-wide gates (`--global-gates`)', 'blind-gates'],
    ['student-blind-gates-psnr', 'the gated blind ×1 student trained on the PSNR loss (`--pixel-loss psnr`)', 'blind-gates-psnr'],
    ['student-blind-gates-psnr-sharp', 'the gated blind ×1 student, PSNR loss, 15% of its patches unblurred', 'blind-gates-psnr-sharp'],
    ['student-blind-gates-psnr-sharp-expand16', 'the same with 16× wide re-parameterizable blocks (`--reparam-expand 16`)', 'blind-gates-psnr-sharp-expand16'],
  ];
  for (const [id, label, suffix] of optional) {
    const e = runEntry(root, id, scale, 'student', label, `student-x${scale}-${suffix}`);
    if (!e.missing) out.push(e);
  }
  const shipped = path.join(root, 'models', `x${scale}`);
  const isShipped = existsSync(path.join(shipped, 'model.json'));
  out.push(
    isShipped
      ? { id: 'shipped', scale, role: 'student', label: `shipped \`x${scale}\` (models/x${scale})`, source: { kind: 'saved', dir: shipped } }
      : { id: 'shipped', scale, role: 'student', label: `shipped \`x${scale}\``, missing: `not shipped yet (models/x${scale}/model.json missing)` },
  );
  // The larger shipped ×4 student (more quality, fewer frames per second), where it is installed.
  const plus = path.join(root, 'models', 'x4-plus');
  if (scale === 4 && existsSync(path.join(plus, 'model.json'))) {
    out.push({ id: 'shipped-plus', scale, role: 'student', label: 'shipped `x4-plus` (models/x4-plus: compact 32×8 distilled from EMT ×4)', source: { kind: 'saved', dir: plus } });
  }
  // The smaller shipped ×2 student (real-time at 1280×720, less quality), where it is installed.
  const fast = path.join(root, 'models', 'x2-fast');
  if (scale === 2 && existsSync(path.join(fast, 'model.json'))) {
    out.push({ id: 'shipped-fast', scale, role: 'student', label: 'shipped `x2-fast` (models/x2-fast: compact 16×3 with one PReLU slope per layer, the fast ×2)', source: { kind: 'saved', dir: fast } });
  }
  // The earlier ×1 protocol (a known Gaussian, σ = 1), kept as a second, labelled row of the shipped model.
  if (scale === 1 && isShipped) {
    out.push({ id: 'shipped-gaussian', scale, role: 'student', label: 'shipped `x1`, **fixed-σ protocol** (Gaussian σ = 1, not blind)', source: { kind: 'saved', dir: shipped }, protocol: 'gaussian', qualityOnly: true });
  }
  // The sharp protocol (an image with nothing to sharpen, JPEG q90): what a sharpener does to it, against the input itself.
  if (scale === 1) {
    const sharp = '**sharp protocol** (HR as JPEG q90, nothing to sharpen)';
    out.push({ id: 'identity-sharp', scale, role: 'baseline', label: `degraded input, ${sharp}`, source: { kind: 'x1-baseline', name: 'input' }, protocol: 'sharp', qualityOnly: true });
    out.push({ id: 'deconv-blind-sharp', scale, role: 'baseline', label: `blind deconvolution, ${sharp}`, source: { kind: 'x1-baseline', name: 'wiener-blind' }, protocol: 'sharp', qualityOnly: true });
    for (const [id, of] of [['student-blind-gates-sharp', 'student-blind-gates'], ['student-blind-gates-psnr-sharp-sharp', 'student-blind-gates-psnr-sharp']] as const) {
      const e = out.find((x) => x.id === of);
      if (e && !e.missing) out.push({ ...e, id, label: `${e.label}, ${sharp}`, protocol: 'sharp', qualityOnly: true });
    }
    if (isShipped) out.push({ id: 'shipped-sharp', scale, role: 'student', label: `shipped \`x1\`, ${sharp}`, source: { kind: 'saved', dir: shipped }, protocol: 'sharp', qualityOnly: true });
  }
  return out;
}
