import { Command } from 'commander';
import { commands } from './commands';

// TF.js's cpu backend advertises tfjs-node on first use; in a CLI that already picks its backend that banner is noise.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...args);
};

const program = new Command();
program
  .name('sharpen-kd')
  .description('Image sharpening and super-resolution by knowledge distillation, on TensorFlow.js.')
  .version(process.env.SHARPEN_KD_VERSION ?? '0.0.0')
  .showHelpAfterError();

for (const register of commands) register(program);

await program.parseAsync(process.argv);
