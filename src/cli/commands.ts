import type { Command } from 'commander';
import { registerTrain } from './train';
import { registerDistill } from './distill';
import { registerDownscale } from './downscale';
import { registerScore } from './score';
import { registerSharpen } from './sharpen';
import { registerVideo } from './video';
import { registerEval } from './eval';
import { registerBench } from './bench';

/** Every CLI command registers itself on the program through one of these. One file per command. */
export type RegisterCommand = (program: Command) => void;

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
