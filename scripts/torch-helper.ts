/**
 * Shared pieces of the benchmarks against PyTorch (bench-vs-pytorch.ts, bench-train-vs-pytorch.ts): finding a python
 * with torch, the JSON-lines helper process, and interleaved rounds of engines that time themselves.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as readline from 'node:readline';

/** The python to use: `--python`, else SHARPEN_KD_PYTHON, else Debian's /usr/bin/python3 (python3-torch), else python3. */
export function defaultPython(): string {
  return process.env.SHARPEN_KD_PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** Exits 0 with a message when `python` cannot import torch and numpy (the benchmarks are optional). */
export function requireTorchOrSkip(python: string): void {
  const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status === 0) return;
  console.log(`skipped: no PyTorch for ${python} (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}).`);
  console.log('Install it (Debian: apt install python3-torch) or pass --python <python with torch>.');
  process.exit(0);
}

/**
 * A helper process (PyTorch, or another checkout's benchmark in `--serve` mode): one JSON request per line on its
 * stdin, one JSON answer per line on its stdout.
 */
export class TorchHelper {
  private readonly proc;
  private readonly lines: AsyncIterableIterator<string>;
  constructor(command: string, args: string[], cwd?: string) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], cwd });
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  /** The next answer (the first one is the helper's greeting). */
  async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the helper process exited');
    const r = JSON.parse(value) as Record<string, unknown>;
    if (r.error) throw new Error(`helper process: ${String(r.error)}`);
    return r;
  }
  async ask(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.proc.stdin.write(`${JSON.stringify(req)}\n`);
    return this.next();
  }
  quit(): void {
    this.proc.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}

/** An engine run: some calls, each timed by the engine itself (ms per call). */
export type EngineRun = () => Promise<number[]>;

/**
 * One warm-up run of every engine, then `rounds` rounds running each engine in turn, so load drift hits all alike.
 * Every turn starts after `gapMs` of quiet (default 300): the engine before it may leave worker threads spinning for
 * a while after its last call (PyTorch's OpenMP and TBB workers, ONNX Runtime's spinning pool), and those would take
 * cores from the next engine's first calls. Each round starts one engine further on, so that no engine always
 * follows the same one.
 */
export async function interleavedRounds(engines: Map<string, EngineRun>, rounds: number, opts: { gapMs?: number } = {}): Promise<Map<string, number[]>> {
  const gap = opts.gapMs ?? 300;
  const quiet = () => new Promise((resolve) => setTimeout(resolve, gap));
  const entries = [...engines];
  const times = new Map(entries.map(([k]) => [k, [] as number[]]));
  for (const [, run] of entries) {
    await quiet();
    await run();
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < entries.length; i++) {
      const [k, run] = entries[(r + i) % entries.length];
      await quiet();
      times.get(k)!.push(...(await run()));
    }
  }
  return times;
}

/** The p-th percentile (nearest rank) of `a`. */
export function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The load average line the benchmarks print. */
export function loadLine(load: number[]): string {
  return `${load.map((v) => v.toFixed(2)).join(' ')}${load[0] > 0.5 ? ' (a busy machine: compare only within this run)' : ''}`;
}
