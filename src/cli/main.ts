import { Command } from 'commander';
import { commands } from './commands';

const program = new Command();
program
  .name('sharpen-kd')
  .description('Image sharpening and super-resolution by knowledge distillation, on TensorFlow.js.')
  .version(process.env.SHARPEN_KD_VERSION ?? '0.0.0')
  .showHelpAfterError();

for (const register of commands) register(program);

await program.parseAsync(process.argv);
