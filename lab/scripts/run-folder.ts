/**
 * Prints the command (`train` or `distill`) and the run folder (`out`) of a run config, resolved exactly as
 * `sharpen-kd train|distill --config` resolves them (variables from the environment or the config's defaults, paths
 * relative to the config file). The shell chains in lab/ use it to find the run a stage writes.
 *
 * Usage: npx tsx lab/scripts/run-folder.ts lab/runs/<run>.json [command|out]   (default: out)
 */
import { Command } from 'commander';
import { registerDistill } from '../../src/cli/distill';
import { loadRunConfig, runConfigCommand } from '../../src/cli/run-config';
import { registerTrain } from '../../src/cli/train';

const [file, what = 'out'] = process.argv.slice(2);
if (!file || (what !== 'out' && what !== 'command')) {
  console.error('usage: npx tsx lab/scripts/run-folder.ts <run config .json> [command|out]');
  process.exit(2);
}
const name = runConfigCommand(file);
if (what === 'command') {
  console.log(name);
} else {
  const program = new Command();
  registerTrain(program);
  registerDistill(program);
  const { values } = loadRunConfig(file, program.commands.find((c) => c.name() === name)!);
  if (typeof values.out !== 'string') {
    console.error(`${file} has no "out"`);
    process.exit(2);
  }
  console.log(values.out);
}
