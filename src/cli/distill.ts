/** `sharpen-kd distill`: distills a teacher into a student, with the same flags as `train` plus the teacher's. */
import type { Command } from 'commander';
import type * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../backends/use-backend';
import { ConfigError } from '../errors';
import { loadModel } from '../io/model-io';
import { isPretrainedTeacher, loadPretrainedTeacher, type PretrainedTeacherName } from '../models/pretrained-teachers';
import { buildTeacher } from '../models/teacher';
import { BUILTIN_SCALES, builtinModelLocation, isBuiltinModel } from '../infer/registry';
import { openDataset } from '../data/datasets';
import { defaultPatchSize } from '../data/patch-dataset';
import { mixDatasets } from '../data/mix';
import type { PatchDataset } from '../data/types';
import { distill } from '../train/distill';
import { checkEnsembleSize } from '../train/self-ensemble';
import type { TeacherRuntime } from '../train/teacher';
import { PIXEL_LOSS_KINDS, type PixelLossKind } from '../losses/pixel';
import type { RegisterCommand } from './run-command';
import { runCommand, signalFromProcess } from './run-command';
import { choiceOption, intOption, numberOption, TEACHER_NAMES } from './options';
import { TEACHER_WEIGHTS_HELP } from './sharpen';
import { addTrainingOptions, datasetFromOptions, modelFromOptions, printSummary, pixelSpaceOf, progressReporter, trainOptionsFromCli, type TrainCliOptions } from './train';

interface DistillCliOptions extends TrainCliOptions {
  teacher: string;
  featureTeacher?: string;
  cacheDir?: string;
  cacheSize: number;
  /** LR pixels of context the teacher sees around each cached patch. */
  cacheContext: number;
  /** `--no-cache-augment`: false. */
  cacheAugment?: boolean;
  teacherRuntime: TeacherRuntime;
  lossOutput: number;
  outputLoss: PixelLossKind;
  outputBounded?: boolean;
  lossFeature: number;
  teacherEnsemble: number;
  teacherWeights?: string;
  unlabeled?: boolean;
  extra?: string[];
  extraDownscale: number;
}


/** Loads the teacher `given` names (the value of `flag`: `--teacher` or `--feature-teacher`). */
async function loadTeacher(given: string, flag: string, o: DistillCliOptions): Promise<tfl.LayersModel> {
  const name = given.replace(/^@upscalerjs\//, '');
  if (isPretrainedTeacher(name)) return loadPretrainedTeacher(name, { scale: o.scale, weights: o.teacherWeights });
  if (/\.(pth|pt|safetensors)$/i.test(name)) return loadPretrainedTeacher(`emt-x${o.scale}` as PretrainedTeacherName, { weights: given });
  if (isBuiltinModel(name) && name !== 'bicubic') {
    // A shipped student as the teacher: a teaching assistant between EMT and a smaller student (see the guide).
    if (BUILTIN_SCALES[name] !== o.scale) throw new ConfigError(`${flag} ${name} is a ×${BUILTIN_SCALES[name]} model; this run trains at ×${o.scale}`);
    return loadModel(await builtinModelLocation(name));
  }
  if (name === 'resnet') {
    process.stderr.write(`sharpen-kd: ${flag} resnet builds an UNTRAINED ResNet teacher (for pipeline tests); train one with \`sharpen-kd train --arch resnet\` and pass its model-best folder\n`);
    return buildTeacher({ scale: o.scale, seed: o.seed });
  }
  const fs = await import('node:fs/promises');
  if (!(await fs.stat(given).catch(() => undefined))) {
    throw new ConfigError(`${flag} "${given}" is not a model folder or file, nor one of ${TEACHER_NAMES.join(', ')}`);
  }
  return loadModel(given);
}

/** The `--data` stream, mixed batch for batch with the `--extra` inputs when there are any. */
async function distillDataset(o: DistillCliOptions): Promise<PatchDataset> {
  if (o.extraDownscale !== 1 && !o.extra?.length) throw new ConfigError('--extra-downscale applies to the --extra folders; none given');
  const data = await datasetFromOptions(o);
  if (!o.extra?.length) return data;
  try {
    if (!o.cacheDir) throw new ConfigError("--extra inputs have no HR: the teacher's cached predictions are their targets, so they need --cache-dir");
    const extra = await openDataset(o.extra, { scale: o.scale, patchSize: o.patch, batchSize: o.batch, seed: o.seed, cacheBytes: o.cacheMb * 2 ** 20, unlabeled: true, downscale: o.extraDownscale });
    return mixDatasets([data, extra]);
  } catch (e) {
    data.dispose();
    throw e;
  }
}

/** `sharpen-kd distill --teacher T --scale N --out DIR [--data DIR ...] [options]` */
export const registerDistill: RegisterCommand = (program: Command) => {
  const cmd = program
    .command('distill')
    .description('distill a teacher into a tiny student: loss = α·pixel(S,HR) + β·output(S,T) + γ·feature(S,T) + δ·(1-SSIM(S,HR))')
    .option('-t, --teacher <model>', `teacher (required: here or in --config): emt-x2, emt-x3, emt-x4 (EMT, the strong teacher; weights from --teacher-weights), an EMT .pth checkpoint, esrgan-slim, esrgan-medium, esrgan-thick (npm packages, offline), a shipped student (x4-plus, x4, x2, x2-fast, x1: a teaching assistant for a smaller student, with --loss-feature), a saved model folder / model.json, or resnet (untrained)`)
    .option('--teacher-weights <path>', TEACHER_WEIGHTS_HELP);
  addTrainingOptions(cmd, ['teacher'])
    .option('--loss-output <w>', 'weight β of the output distillation loss (student vs teacher prediction)', numberOption('--loss-output', 0), 1)
    .option('--output-loss <kind>', `output distillation loss: ${PIXEL_LOSS_KINDS.join(', ')} (mse regresses the student on the teacher's prediction, an estimate of the conditional mean PSNR rewards)`, choiceOption('--output-loss', PIXEL_LOSS_KINDS), 'l1')
    .option('--output-bounded', 'teacher-bounded output distillation: only where the teacher is closer to HR than the student (needs HR: not with --unlabeled)')
    .option('--loss-feature <w>', 'weight γ of feature distillation (student taps vs teacher taps, 1x1 adapters); with --cache-dir the teacher\'s tap features are cached with its predictions (large: C·h·w·2 bytes per patch and tap; cached batches are then not flipped/rotated), else the teacher runs every step', numberOption('--loss-feature', 0), 0)
    .option('--feature-teacher <model>', 'take the feature term from this model instead of --teacher (any --teacher value; e.g. x4-plus, a teaching assistant of the student\'s own family, while the output targets still come from --teacher); it runs on every batch and is never cached')
    .option('--cache-dir <dir>', 'cache the teacher predictions (and, with --loss-feature, its tap features) for a fixed patch set here (each step then costs only the student)')
    .option('--cache-size <n>', 'patches in the teacher cache', intOption('--cache-size', 1), 2048)
    .option('--cache-context <px>', 'the teacher sees this many LR pixels of context around each cached patch (it runs on patches of --patch + 2·px and the cache keeps their centres), so its targets near a patch border are as good as inside a whole image; costs the cache build about ((p + 2·px) / p)² the time', intOption('--cache-context', 0), 0)
    .option('--no-cache-augment', 'replay the cached patches as stored, never flipped or rotated (as feature distillation must): the control that tells a feature term from the augmentation it gives up')
    .option('--teacher-runtime <r>', 'engine for the teacher: auto (ONNX Runtime if installed), onnx or tfjs', choiceOption<TeacherRuntime>('--teacher-runtime', ['auto', 'onnx', 'tfjs']), 'auto')
    .option('--unlabeled', "the --data images have no HR (your own photos, screenshots, frames): LR patches are cut from them as they are and the teacher's predictions are the targets (needs --cache-dir; --val should hold HR images of the same kind)")
    .option('--extra <dirs...>', "more inputs, without HR, mixed batch for batch with --data and labelled by the teacher (needs --cache-dir): your own photos, or the training images at another scale with --extra-downscale")
    .option('--extra-downscale <f>', 'shrink the --extra images by this integer factor first (MATLAB bicubic, as the evaluation makes its inputs)', intOption('--extra-downscale', 1), 1)
    .option('--teacher-ensemble <n>', 'average the teacher over n flips/transposes (1, 2, 4 or 8): better targets at n times the teacher cost', intOption('--teacher-ensemble', 1), 1)
    .action(
      runCommand(async (o: DistillCliOptions) => {
        const signal = signalFromProcess();

        if (o.arch === 'resnet') throw new ConfigError('--arch resnet is the teacher; distill into a student arch: compact, espcn or fsrcnn');
        await useBackend(o.backend, { threads: o.threads });
        const teacher = await loadTeacher(o.teacher, '--teacher', o);
        const featureTeacher = o.featureTeacher ? await loadTeacher(o.featureTeacher, '--feature-teacher', o).catch((e) => {
          teacher.dispose();
          throw e;
        }) : undefined;
        if (o.cacheContext > 0 && !o.cacheDir) throw new ConfigError('--cache-context gives the cached teacher targets context: it needs --cache-dir');
        const data = await distillDataset(o);
        const cacheData = o.cacheContext > 0 ? await distillDataset({ ...o, patch: (o.patch ?? defaultPatchSize(o.scale)) + 2 * o.cacheContext }).catch((e) => {
          data.dispose();
          throw e;
        }) : undefined;
        const student = await modelFromOptions(o);
        const progress = progressReporter();
        try {
          const loss = { pixel: o.lossPixel, output: o.lossOutput, feature: o.lossFeature, ssim: o.lossSsim, pixelKind: o.pixelLoss, outputKind: o.outputLoss, outputBounded: o.outputBounded === true, pixelSpace: pixelSpaceOf(o) };
          const base = trainOptionsFromCli(o, loss, signal, progress.onProgress);
          const r = await distill({
            ...base,
            meta: { ...base.meta, teacher: o.teacher, ...(o.featureTeacher ? { featureTeacher: o.featureTeacher } : {}), teacherEnsemble: o.teacherEnsemble, cacheSize: o.cacheDir ? o.cacheSize : null, ...(o.cacheContext > 0 ? { cacheContext: o.cacheContext } : {}), ...(o.cacheAugment === false ? { cacheAugment: false } : {}), lossOutput: o.lossOutput, outputLoss: o.outputLoss, ...(o.outputBounded ? { outputBounded: true } : {}), lossFeature: o.lossFeature },
            teacher,
            featureTeacher,
            student,
            data,
            cacheDir: o.cacheDir,
            cacheSize: o.cacheSize,
            cacheData,
            cacheAugment: o.cacheAugment === false ? false : undefined,
            teacherRuntime: o.teacherRuntime,
            teacherEnsemble: checkEnsembleSize(o.teacherEnsemble),
          });
          progress.finish();
          printSummary(r, data);
        } finally {
          progress.finish();
          data.dispose();
          cacheData?.dispose();
          student.dispose();
          teacher.dispose();
          featureTeacher?.dispose();
        }
      }),
    );
};
