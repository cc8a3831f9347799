/** The JSONL training log: one JSON object per line (step, loss parts, lr, steps/s, validation scores). */
import { writeFileAtomic } from '../io/atomic-write';
import { IoError } from '../errors';

/**
 * Appends JSON lines to `file`. On resume, {@link RunLog.open} drops lines after the checkpoint's step so that the
 * log reads as one uninterrupted run.
 *
 * @example
 * ```ts
 * const log = await RunLog.open('runs/x2/log.jsonl', { keepUpTo: 0 });
 * await log.write({ step: 10, loss: 0.05 });
 * ```
 */
export class RunLog {
  private constructor(private readonly file: string) {}

  /** Opens the log; keeps existing lines with `step <= keepUpTo` (0 = start a new log). */
  static async open(file: string, opts: { keepUpTo: number }): Promise<RunLog> {
    const fs = await import('node:fs/promises');
    let kept = '';
    if (opts.keepUpTo > 0) {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      kept = text
        .split('\n')
        .filter((l) => {
          if (!l.trim()) return false;
          try {
            return (JSON.parse(l) as { step?: number }).step! <= opts.keepUpTo;
          } catch {
            return false;
          }
        })
        .map((l) => `${l}\n`)
        .join('');
    }
    await writeFileAtomic(file, kept);
    return new RunLog(file);
  }

  async write(row: Record<string, unknown>): Promise<void> {
    const fs = await import('node:fs/promises');
    try {
      await fs.appendFile(this.file, `${JSON.stringify(row)}\n`);
    } catch (e) {
      throw new IoError(`cannot append to ${this.file}: ${(e as Error).message}`, { cause: e });
    }
  }
}
