import type { Command } from 'commander';
import { SharpenError } from '../errors';

/**
 * Every CLI command registers itself on the program through one of these (one file per command; commands.ts lists
 * them). Defined here, not in commands.ts, so that the command files do not import the list that imports them.
 */
export type RegisterCommand = (program: Command) => void;

/**
 * Runs a CLI action: typed errors become one clear line on stderr and an exit code
 * (2 for bad input, 130 for abort, 1 otherwise); anything else is a bug and keeps its stack.
 */
export function runCommand<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof SharpenError) {
        process.stderr.write(`sharpen-kd: ${e.message}\n`);
        process.exitCode = e.code === 'E_INPUT' || e.code === 'E_CONFIG' || e.code === 'E_SHAPE' ? 2 : e.code === 'E_ABORT' ? 130 : 1;
      } else {
        process.stderr.write(`sharpen-kd: unexpected error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
        process.exitCode = 1;
      }
    }
  };
}

/** An AbortSignal that fires on Ctrl-C (SIGINT) or SIGTERM, so long commands stop cleanly. */
export function signalFromProcess(): AbortSignal {
  const ac = new AbortController();
  const stop = (sig: string) => () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write(`\nsharpen-kd: ${sig} received, stopping (press again to force)\n`);
    ac.abort();
  };
  process.once('SIGINT', stop('SIGINT'));
  process.once('SIGTERM', stop('SIGTERM'));
  return ac.signal;
}
