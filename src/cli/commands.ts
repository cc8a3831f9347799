import { registerTrain } from './train';
import { registerDistill } from './distill';
import { registerDownscale } from './downscale';
import { registerScore } from './score';
import { registerSharpen } from './sharpen';
import { registerVideo } from './video';
import { registerEval } from './eval';
import { registerBench } from './bench';
import type { RegisterCommand } from './run-command';

/** Every CLI command, in the order `--help` lists them. */
export const commands: RegisterCommand[] = [
  registerTrain,
  registerDistill,
  registerDownscale,
  registerScore,
  registerSharpen,
  registerVideo,
  registerEval,
  registerBench,
];
