/**
 * The flags that describe a student's architecture, shared by `train` / `distill` (the net to build) and `bench` (the
 * net to time before training it, so that a size can be chosen for a speed budget).
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors';
import type { PreluSlopes } from '../models/blocks';
import type { DetailKind } from '../models/compact';
import type { ResidualInterpolation } from '../models/layers/add-upsampled-input';
import type { StudentArch, StudentOptions } from '../models/student';
import { choiceOption, intOption } from './options';

/** What the shape flags parse to. */
export interface StudentShapeCliOptions {
  arch?: StudentArch | 'resnet';
  width?: number;
  depth?: number;
  unshuffle?: 1 | 2 | 4;
  detail?: DetailKind;
  residualInterpolation?: ResidualInterpolation;
  preluSlopes?: PreluSlopes;
  globalGates?: boolean;
}

const unshuffleOption = (v: string): 1 | 2 | 4 => Number(choiceOption('--unshuffle', ['1', '2', '4'])(v)) as 1 | 2 | 4;

/** Adds `--arch` (help `archHelp`, default `archDefault`), `--width`, `--depth`, `--unshuffle`, `--detail`, `--residual-interpolation`, `--prelu-slopes` and `--global-gates`. */
export function addStudentShapeOptions(cmd: Command, archHelp: string, archDefault?: string): Command {
  return cmd
    .option('--arch <name>', archHelp, archDefault)
    .option('--width <n>', 'student width (compact: channels; espcn: n1; fsrcnn: d)', intOption('--width', 1))
    .option('--depth <n>', 'student depth (compact: body convs; fsrcnn: mapping layers)', intOption('--depth', 0))
    .option('--unshuffle <n>', 'compact: pixel-unshuffle the input by 2 or 4 so the body runs at 1/n resolution (for real-time x2 / x1)', unshuffleOption)
    .option('--detail <kind>', "compact: what the last conv predicts, rgb (a correction per channel) or luma (one Y correction on all three; pair with --residual-interpolation bilinear)", choiceOption('--detail', ['rgb', 'luma'] as const))
    .option('--residual-interpolation <kind>', 'interpolation of the input the net adds its output to: nearest (default) or bilinear', choiceOption('--residual-interpolation', ['nearest', 'bilinear'] as const))
    .option('--prelu-slopes <kind>', 'compact: PReLU slopes, one per channel (default) or one per layer (a learned leaky ReLU, which ONNX Runtime fuses into the conv: faster)', choiceOption('--prelu-slopes', ['channel', 'layer'] as const))
    .option('--global-gates', 'compact: channel gates from the whole image\'s mean features in the second half of the body (for blind sharpening: the blur and noise estimate pooled over the image)');
}

/** The shape flags given, as `--flag value` for messages. */
export function shapeFlagsGiven(o: StudentShapeCliOptions): string[] {
  const flags: [keyof StudentShapeCliOptions, string][] = [['width', '--width'], ['depth', '--depth'], ['unshuffle', '--unshuffle'], ['detail', '--detail'], ['residualInterpolation', '--residual-interpolation'], ['preluSlopes', '--prelu-slopes']];
  return [...flags.filter(([k]) => o[k] !== undefined).map(([k, f]) => `${f} ${String(o[k])}`), ...(o.globalGates ? ['--global-gates'] : [])];
}

/** The student the shape flags describe at `scale` (`--arch resnet`, the teacher, is not a student: ConfigError). */
export function studentShape(o: StudentShapeCliOptions, scale: number): StudentOptions {
  if (o.arch === 'resnet') throw new ConfigError('--arch resnet is the teacher, not a student: use compact, espcn or fsrcnn');
  return { arch: o.arch, scale: scale as StudentOptions['scale'], width: o.width, depth: o.depth, unshuffle: o.unshuffle, detail: o.detail, residualInterpolation: o.residualInterpolation, preluSlopes: o.preluSlopes, ...(o.globalGates ? { globalGates: true } : {}) };
}
