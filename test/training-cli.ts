// The training CLI in-process, shared by the tests of `sharpen-kd train|distill` and of their run configs: a temporary
// folder of procedural training images, and a runner that captures the output and returns the exit code.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerDistill } from '../src/cli/distill';
import { registerTrain } from '../src/cli/train';
import { proceduralImage } from '../src/data/procedural';
import { writeImage } from '../src/io/node-image';

/** A program with the `train` and `distill` commands; commander throws instead of exiting. */
export function trainingProgram(): Command {
  const p = new Command().exitOverride();
  registerTrain(p);
  registerDistill(p);
  return p;
}

/** A new temporary folder with `imgs/`: three 64x56 procedural PNGs. Remove it with `fs.rm(dir, { recursive: true })`. */
export async function imageFolder(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.mkdir(path.join(dir, 'imgs'));
  for (let i = 0; i < 3; i++) {
    const img = proceduralImage(i, 64, 56);
    await writeImage(path.join(dir, 'imgs', `i${i}.png`), { data: img.data as Uint8Array, width: 64, height: 56, channels: 3, bits: 8 });
  }
  return dir;
}

/** What the CLI wrote; the runner appends to it (reset the fields to read one run's output alone). */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs `sharpen-kd <args>` in this process, appending what it writes to `io`; returns the exit code. Commander's own
 * errors (a bad flag value, a missing required option) reject, or with `commanderExitCode` become their exit code.
 */
export async function runCli(args: string[], io: CapturedOutput, opts: { commanderExitCode?: boolean } = {}): Promise<number> {
  process.exitCode = 0;
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((io.stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((io.stderr += s), true)) as typeof process.stderr.write;
  try {
    await trainingProgram().parseAsync(['node', 'sharpen-kd', ...args]);
  } catch (e) {
    if (!(opts.commanderExitCode && e instanceof CommanderError)) throw e;
    process.exitCode = e.exitCode;
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return code;
}
