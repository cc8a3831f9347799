import type { Progress } from '../core/task';

/**
 * A one-line terminal progress bar (stderr). Redraws in place on a TTY; on a pipe or in CI it prints a
 * line every `logEveryMs` instead, so logs stay readable.
 */
export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly start = Date.now();
  private lastLog = 0;
  private lastLen = 0;

  constructor(
    private readonly label: string,
    private readonly opts: { logEveryMs?: number; stream?: NodeJS.WriteStream } = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
  }

  /** Renders one progress report. */
  update(p: Progress): void {
    const now = Date.now();
    const elapsed = (now - this.start) / 1000;
    const total = p.total ?? 0;
    const frac = total > 0 ? Math.min(1, p.done / total) : 0;
    const rate = elapsed > 0 ? p.done / elapsed : 0;
    const eta = total > 0 && rate > 0 ? (total - p.done) / rate : NaN;
    const width = 24;
    const bar = total > 0 ? '█'.repeat(Math.round(frac * width)).padEnd(width, '░') : '';
    const info = p.info
      ? Object.entries(p.info)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNum(v) : v}`)
          .join('  ')
      : '';
    const line = `${this.label} ${bar} ${p.done}${total ? `/${total}` : ''}  ${formatNum(rate)}/s${Number.isFinite(eta) ? `  ETA ${formatDuration(eta)}` : ''}${info ? `  ${info}` : ''}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line.padEnd(this.lastLen)}`);
      this.lastLen = line.length;
    } else if (now - this.lastLog >= (this.opts.logEveryMs ?? 5000) || (total > 0 && p.done >= total)) {
      this.stream.write(`${line}\n`);
      this.lastLog = now;
    }
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.stream.isTTY && this.lastLen > 0) this.stream.write('\n');
    this.lastLen = 0;
  }
}

function formatNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(3);
}

/** Formats seconds as `1h02m`, `3m07s` or `12s`. */
export function formatDuration(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.round(s)}s`;
}
