import { Command } from 'commander';
import { rerunWithMallocTuning, TUNED_COMMANDS } from './malloc-tuning';
import type { RegisterCommand } from './run-command';

// TF.js's cpu backend advertises tfjs-node on first use; in a CLI that already picks its backend that banner is noise.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...args);
};

// Long commands run again with fixed malloc thresholds where glibc would otherwise make frames re-fault their memory.
const command = process.argv[2] ?? '';
if (TUNED_COMMANDS.has(command) && !process.argv.some((a) => a === '-h' || a === '--help')) await rerunWithMallocTuning();

const program = new Command();
program
  .name('sharpen-kd')
  .description('Image sharpening and super-resolution by knowledge distillation, on TensorFlow.js.')
  .version(process.env.SHARPEN_KD_VERSION ?? '0.0.0')
  .configureOutput({ outputError: (str, write) => write(`sharpen-kd: ${str}`) })
  .showHelpAfterError("Run 'sharpen-kd --help' for usage.");

// Commands whose module loads little (no TF.js at import): `sharpen-kd sharpen x.png` imports only that one, since
// importing every command (training imports TF.js) was most of a one-image call. Anything else loads them all.
const LIGHT: Record<string, () => Promise<RegisterCommand>> = {
  sharpen: () => import('./sharpen').then((m) => m.registerSharpen),
};
const only = LIGHT[command];
const registers = only ? [await only()] : (await import('./commands')).commands;
for (const register of registers) register(program);
// An argument error is one line and where to find the usage (exit code 1, commander's), not the whole usage.
for (const cmd of program.commands) cmd.showHelpAfterError(`Run 'sharpen-kd ${cmd.name()} --help' for usage.`);

await program.parseAsync(process.argv);
