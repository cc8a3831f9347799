/**
 * `sharpen-kd train`: trains a student (or the ResNet teacher) on image folders, and the options it shares with
 * `sharpen-kd distill` (data, model, optimisation, validation, checkpoints). The CLI turns flags into plain typed
 * objects; the library validates them (ConfigError).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BACKEND_NAMES, useBackend, type BackendName } from '../backends/use-backend';
import type { Progress } from '../core/task';
import { openDataset } from '../data/datasets';
import { openDatasetInWorker } from '../data/worker-dataset';
import type { DegradationOptions, RandomDegradation } from '../data/degrade';
import type { PatchDataset, Scale } from '../data/types';
import type { LossWeights, PixelSpace } from '../losses/combined';
import { PIXEL_LOSS_KINDS, type PixelLossKind } from '../losses/pixel';
import { ConfigError } from '../errors';
import { buildStudent, type StudentArch } from '../models/student';
import { buildTeacher } from '../models/teacher';
import type { TrainResult } from '../train/loop';
import type { CheckpointPrecision, NormalizedTrainOptions } from '../train/options';
import { train } from '../train/train';
import type { RegisterCommand } from './run-command';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { initialStudent } from './init-student';
import { addRunConfigOption } from './run-config';
import { addStudentShapeOptions, studentShape, type StudentShapeCliOptions } from './student-shape';
import { choiceOption, intOption, numberOption } from './options';

/** Flags shared by `train` and `distill`, as commander parses them. */
export interface TrainCliOptions extends StudentShapeCliOptions {
  data: string[];
  scale: Scale;
  arch: StudentArch | 'resnet';
  pixelSpace?: PixelSpace;
  reparam?: boolean;
  reparamExpand?: number;
  teacherDepths?: number[];
  widthMult?: number;
  teacherActivation?: 'relu' | 'prelu';
  patch?: number;
  batch: number;
  steps: number;
  lr: number;
  schedule: 'cosine' | 'step' | 'constant';
  warmup?: number;
  minLr?: number;
  scheduleStart?: number;
  clip: number;
  ema: number;
  skipSpikes: number;
  lossPixel: number;
  lossSsim: number;
  pixelLoss: PixelLossKind;
  blur?: RandomDegradation | false;
  motionBlur?: RandomDegradation | false;
  noise?: RandomDegradation | false;
  jpeg?: RandomDegradation | false;
  val?: string;
  valEvery: number;
  valImages?: number;
  out: string;
  resume?: boolean | string;
  init?: string;
  seed: number;
  backend: BackendName;
  threads?: number;
  logEvery: number;
  checkpointEvery?: number;
  checkpointPrecision: CheckpointPrecision;
  cacheMb: number;
  /** false with `--no-data-worker`. */
  dataWorker?: boolean;
  /** `--rescale`: the versions of each HR image patches are drawn from. */
  rescale?: number[];
  /** `train --privileged`: targets the data stream makes itself. */
  privileged?: 'wiener-oracle';
  /** `train --loss-output` (distill has its own). */
  lossOutput?: number;
  dryRun?: boolean;
  /** `--config`: the run config the other values were filled from (src/cli/run-config.ts). */
  config?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const precisionOption = choiceOption<CheckpointPrecision>('--checkpoint-precision', ['full', 'compact']);
const teacherActivationOption = choiceOption('--teacher-activation', ['relu', 'prelu']);
/** `off`, or `min,max[,prob]`. */
const degradation = (name: string) => (v: string): RandomDegradation | false => {
  if (v === 'off' || v === 'none') return false;
  const parts = v.split(',').map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`${name} takes "min,max[,prob]" or "off", got "${v}"`);
  return { range: [parts[0], parts[1]], prob: parts[2] ?? 1 };
};

/**
 * Adds the shared flags to a command, and `--config` (a run config that fills the flags not given; `--scale`, `--out`
 * and the command's own `required` options must come from one or the other).
 */
export function addTrainingOptions(cmd: Command, required: readonly string[] = []): Command {
  addRunConfigOption(cmd, ['scale', 'out', ...required]);
  cmd
    .option('-d, --data <dir>', 'training images (repeatable): a folder of HR images, a set folder with HR/ (and LR/ for pairs), or a DIV2K root; none = synthetic data', collect, [])
    .option('-s, --scale <n>', 'upscaling factor 1 (sharpening), 2, 3 or 4 (required: here or in --config)', (v) => intOption('--scale', 1, 4)(v) as Scale);
  return addStudentShapeOptions(cmd, 'student architecture: compact, espcn or fsrcnn (train also accepts resnet: the teacher)', 'compact')
    .option('--reparam', 'compact: train each 3x3 conv as a re-parameterizable ECB block (saved models are the plain net)')
    .option('--reparam-expand <n>', 'with --reparam: channel multiplier of each block\'s expand -> 3x3 branch (default 2; 16 widens a 16-channel net\'s to 256)', intOption('--reparam-expand', 1, 64))
    .option('--patch <n>', 'LR patch side (default 96/scale, i.e. 96-pixel HR patches)', intOption('--patch', 4, 1024))
    .option('--batch <n>', 'patches per batch', intOption('--batch', 1, 4096), 16)
    .option('--steps <n>', 'total optimizer steps', intOption('--steps', 1), 20000)
    .option('--lr <x>', 'peak learning rate (Adam)', numberOption('--lr', 1e-8, 1), 1e-3)
    .option('--schedule <kind>', 'learning-rate schedule after warmup: cosine, step or constant', 'cosine')
    .option('--warmup <n>', 'linear warmup steps (default min(500, 2% of steps))', intOption('--warmup', 0))
    .option('--min-lr <x>', 'cosine: final learning rate (default lr/100)', numberOption('--min-lr', 0, 1))
    .option('--schedule-start <n>', 'step the schedule starts after (a fresh warmup + decay cycle for a resumed run; default 0)', intOption('--schedule-start', 0))
    .option('--clip <x>', 'clip gradients to this global L2 norm (0 = off)', numberOption('--clip', 0), 0)
    .option('--ema <decay>', 'EMA of the weights, e.g. 0.999 (0 = off); validation and exported models use it', numberOption('--ema', 0, 0.999999), 0)
    .option('--skip-spikes <k>', 'skip the update of a step whose gradient norm is over k times the running mean of norms, e.g. 10 (0 = off): one bad batch cannot throw the run off', numberOption('--skip-spikes', 0), 0)
    .option('--loss-pixel <w>', 'weight α of the pixel loss against HR', numberOption('--loss-pixel', 0), 1)
    .option('--loss-ssim <w>', 'weight δ of 1 - SSIM(student, HR)', numberOption('--loss-ssim', 0), 0)
    .option('--pixel-loss <kind>', `pixel loss: ${PIXEL_LOSS_KINDS.join(', ')}`, 'l1')
    .option('--pixel-space <space>', 'colour space of the pixel loss and of output distillation: rgb, or y (BT.601 luma; default y with --detail luma, else rgb)', choiceOption('--pixel-space', ['rgb', 'y'] as const))
    .option('--blur <min,max[,p]>', 'Gaussian blur sigma range and probability, or off (default: on for scale 1: 0.5,2,1; the scale-1 defaults are the blind x1 benchmark\'s distribution)', degradation('--blur'))
    .option('--motion-blur <min,max[,p]>', 'motion blur length range and probability, or off (scale 1 default: 3,9,0.3)', degradation('--motion-blur'))
    .option('--noise <min,max[,p]>', 'Gaussian noise sigma range (8-bit levels) and probability, or off (scale 1 default: 0,3,1)', degradation('--noise'))
    .option('--jpeg <min,max[,p]>', 'JPEG quality range and probability, or off (scale 1 default: 60,95,1)', degradation('--jpeg'))
    .option('--val <dir>', 'validation folder of HR images (e.g. Set5): Y-PSNR/SSIM with the literature protocol')
    .option('--val-every <n>', 'validate (and save best.ckpt when it improves) every N steps', intOption('--val-every', 1), 500)
    .option('--val-images <n>', 'use only the first N validation images', intOption('--val-images', 1))
    .option('-o, --out <dir>', 'run folder: last.ckpt, best.ckpt, log.jsonl, model-best/, model-last/ (required: here or in --config)')
    .option('--resume [ckpt]', 'continue from <out>/last.ckpt if it exists (or from the given run folder / .ckpt)')
    .option('--init <model>', 'compact: start from a saved student\'s weights (a fresh start only: a resumed checkpoint replaces them); a smaller one is grown to --width / --depth (Net2Net, same function)')
    .option('--seed <n>', 'seed of the data stream and initialisation', intOption('--seed', 0), 0)
    .option('-b, --backend <name>', `TF.js backend: ${BACKEND_NAMES.join(', ')}`, 'wasm')
    .option('--threads <n>', 'wasm threads', intOption('--threads', 1))
    .option('--log-every <n>', 'write a log.jsonl line every N steps', intOption('--log-every', 1), 10)
    .option('--checkpoint-every <n>', 'write last.ckpt every N steps (default: --val-every)', intOption('--checkpoint-every', 1))
    .option('--checkpoint-precision <p>', 'full (exact resume) or compact (Adam/EMA state as bfloat16: ~40% smaller files, for teachers)', precisionOption, 'full')
    .option('--rescale <factors>', 'draw HR patches from each training image as it is and shrunk by these factors, e.g. 1,0.8,0.6 (MATLAB bicubic; more content per pixel for small training sets; default 1)', (v: string) => v.split(',').map((x) => numberOption('--rescale', 0.25, 1)(x)))
    .option('--cache-mb <n>', 'memory for decoded training images (MB)', intOption('--cache-mb', 16), 1024)
    .option('--no-data-worker', 'make the training patches in the training thread, not in a worker thread beside it (the same patches)')
    .option('--dry-run', 'check the data, model, resume checkpoint and validation set, print the plan, and stop before the first step (writes nothing)');
}

/** The dataset the flags describe. */
export async function datasetFromOptions(o: TrainCliOptions & { unlabeled?: boolean }): Promise<PatchDataset> {
  const degradationOpts: DegradationOptions = { blur: o.blur, motionBlur: o.motionBlur, noise: o.noise, jpeg: o.jpeg };
  if (o.data.length === 0) process.stderr.write('sharpen-kd: no --data given: training on synthetic images (edges, text strokes, textures)\n');
  if (o.unlabeled && o.data.length === 0) throw new ConfigError('--unlabeled needs --data: the folders of your own images');
  const opts = { scale: o.scale, patchSize: o.patch, batchSize: o.batch, seed: o.seed, degradation: degradationOpts, cacheBytes: o.cacheMb * 2 ** 20, unlabeled: o.unlabeled, privileged: o.privileged, rescale: o.rescale };
  // The same stream either way; in a worker its patches are made while the training step runs.
  return o.dataWorker === false ? openDataset(o.data, opts) : openDatasetInWorker(o.data, opts);
}

/**
 * The model the flags describe (a student, or the ResNet teacher for `--arch resnet`); with `--init`, the saved
 * student's weights, grown to the flags' width and depth when it is smaller.
 */
export async function modelFromOptions(o: TrainCliOptions): Promise<tfl.LayersModel> {
  if (o.arch === 'resnet') {
    if (o.init !== undefined) throw new ConfigError('--init starts a student from a saved compact student; it does not apply to --arch resnet');
    return buildTeacher({ scale: o.scale, depths: o.teacherDepths, widthMultiplier: o.widthMult, activation: o.teacherActivation, seed: o.seed });
  }
  const spec = { ...studentShape(o, o.scale), reparam: o.reparam, reparamExpand: o.reparamExpand, seed: o.seed };
  if (o.init === undefined) return buildStudent(spec);
  return initialStudent(o.init, spec);
}

/** `--pixel-space`, defaulting to Y for a luma-detail student (it can only move Y). */
export function pixelSpaceOf(o: TrainCliOptions): PixelSpace {
  return o.pixelSpace ?? (o.detail === 'luma' ? 'y' : 'rgb');
}

/**
 * The library options the flags describe, in the grouped shape `train` and `distill` take. A run config's sections
 * (`schedule`, `loss`, `validation`, `checkpoint`) land in the groups of the same name, key for key.
 */
export function trainOptionsFromCli(o: TrainCliOptions, loss: LossWeights, signal: AbortSignal, onProgress: (p: Progress) => void): NormalizedTrainOptions {
  return {
    schedule: { steps: o.steps, lr: o.lr, kind: o.schedule, warmup: o.warmup, minLr: o.minLr, start: o.scheduleStart, clip: o.clip, ema: o.ema, skipSpikes: o.skipSpikes },
    loss,
    validation: { folder: o.val, every: o.valEvery, images: o.valImages },
    checkpoint: { every: o.checkpointEvery, precision: o.checkpointPrecision, logEvery: o.logEvery },
    out: o.out,
    resume: o.resume,
    seed: o.seed,
    dryRun: o.dryRun,
    signal,
    onProgress,
    meta: {
      arch: o.arch, scale: o.scale, width: o.width ?? null, depth: o.depth ?? null, patch: o.patch ?? null, batch: o.batch, data: o.data,
      ...(o.init ? { init: o.init } : {}),
      ...(o.detail ? { detail: o.detail } : {}),
      ...(o.residualInterpolation ? { residualInterpolation: o.residualInterpolation } : {}),
    },
  };
}

/** A progress reporter with one bar per stage; the train bar counts the steps of this invocation (rate and ETA stay right after a resume). */
export function progressReporter(): { onProgress: (p: Progress) => void; finish: () => void } {
  let bar: ProgressBar | undefined;
  let stage = '';
  let first = 0;
  return {
    onProgress(p) {
      if (p.stage !== stage) {
        bar?.finish();
        bar = new ProgressBar(p.stage);
        stage = p.stage;
        first = p.done - 1;
      }
      if (p.stage === 'train') bar!.update({ ...p, done: p.done - first, total: (p.total ?? p.done) - first, info: { step: String(p.done), ...p.info } });
      else bar!.update(p);
    },
    finish: () => bar?.finish(),
  };
}

/** Prints the end-of-run summary (or, for a dry run, the plan). */
export function printSummary(r: TrainResult, data?: PatchDataset): void {
  if (r.plan) {
    const p = r.plan;
    const lines = [
      p.startStep >= p.steps
        ? `dry run: nothing to do, already at step ${p.startStep} of ${p.steps}`
        : `dry run: would train steps ${p.startStep + 1}..${p.steps} (${p.steps - p.startStep} steps), learning rate ${p.lrAtStart.toPrecision(3)} at the first`,
      `resume: ${r.resumedFrom ?? 'none (fresh start)'}`,
    ];
    if (data) lines.push(`data: ${data.description}`);
    lines.push(`validation: ${p.validationImages ? `${p.validationImages} images` : 'none'}`);
    if (r.files) lines.push(`would write: ${r.files.last}, ${r.files.log}, ${r.files.modelLast}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  if (r.alreadyFinished) {
    const { steps } = r.alreadyFinished;
    const lines = [
      `${r.step === steps ? `already finished at step ${r.step} of ${steps}` : `already at step ${r.step}, past --steps ${steps}`}; nothing to do (raise --steps to train further)`,
    ];
    if (r.alreadyFinished.restored) lines.push(`model-last was missing: exported again from the last checkpoint to ${r.alreadyFinished.restored}`);
    if (r.best?.psnr !== undefined) lines.push(`best validation (step ${r.best.step}): Y-PSNR ${r.best.psnr.toFixed(2)} dB, Y-SSIM ${r.best.ssim!.toFixed(4)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  const lines = [`done: step ${r.step}${Number.isFinite(r.loss) ? `, loss ${r.loss.toPrecision(4)}` : ''}`];
  if (r.val) lines.push(`last validation (step ${r.val.step}): Y-PSNR ${r.val.psnr.toFixed(2)} dB, Y-SSIM ${r.val.ssim.toFixed(4)}`);
  if (r.best?.psnr !== undefined) lines.push(`best validation (step ${r.best.step}): Y-PSNR ${r.best.psnr.toFixed(2)} dB, Y-SSIM ${r.best.ssim!.toFixed(4)}`);
  if (r.files) lines.push(`checkpoints: ${r.files.last}, ${r.files.best}; models: ${r.files.modelBest}, ${r.files.modelLast}; log: ${r.files.log}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `sharpen-kd train --scale N --out DIR [--data DIR ...] [options]` */
export const registerTrain: RegisterCommand = (program: Command) => {
  const cmd = program
    .command('train')
    .description('train a student (or, with --arch resnet, the teacher) on HR images: random patches, MATLAB-bicubic LR (scale 1: blur/noise/JPEG), Adam, checkpoints, resume');
  addTrainingOptions(cmd)
    .option('--teacher-depths <list>', '--arch resnet: bottleneck blocks per stage, e.g. 3,4,6,3', (v: string) => v.split(',').map((x) => intOption('--teacher-depths', 1)(x)))
    .option('--width-mult <x>', '--arch resnet: channel multiplier of ResNet-50 widths', numberOption('--width-mult', 0.01, 4))
    .option('--teacher-activation <a>', '--arch resnet: activation of the stem and decoder convs, relu (default) or prelu (cannot die; recommended for new teachers)', teacherActivationOption)
    .option('--privileged <kind>', "scale 1: each patch also carries the oracle's restoration as a target, wiener-oracle (Wiener deconvolution with the patch's true kernel); weigh it with --loss-output", choiceOption('--privileged', ['wiener-oracle'] as const))
    .option('--loss-output <w>', 'weight of the output term against the targets the data carries (--privileged)', numberOption('--loss-output', 0), 0)
    .action(
      runCommand(async (o: TrainCliOptions) => {
        const signal = signalFromProcess();
        await useBackend(o.backend, { threads: o.threads });
        const data = await datasetFromOptions(o);
        const model = await modelFromOptions(o);
        const progress = progressReporter();
        try {
          const loss = { pixel: o.lossPixel, ssim: o.lossSsim, output: o.lossOutput, pixelKind: o.pixelLoss, pixelSpace: pixelSpaceOf(o) };
          const r = await train({ student: model, data, ...trainOptionsFromCli(o, loss, signal, progress.onProgress) });
          progress.finish();
          printSummary(r, data);
        } finally {
          progress.finish();
          data.dispose();
          model.dispose();
        }
      }),
    );
};
