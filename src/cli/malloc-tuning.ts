/**
 * Fixed glibc malloc thresholds for the CLI's long-running commands.
 *
 * By default glibc hands memory it considers surplus back to the kernel (large blocks are mmap'd and unmapped, the
 * heap top is trimmed), and ONNX Runtime in Node allocates and frees frame-sized buffers on every run, as do typed
 * arrays. Where a page fault is dear (sandboxed containers such as gVisor, some VMs) a frame then pays for faulting
 * that memory back in: on the reference machine a ×4 1280×720 frame took 44 ms instead of 15 (~2700 minor faults of
 * ~10 µs each), a one-image `new Float32Array(2764800).fill(1)` 30–90 ms instead of 1. Thresholds fixed at start-up
 * (`GLIBC_TUNABLES`, read only when a process starts) keep that memory mapped: `sharpen-kd bench -m x4 --size
 * 1280x720` went from 22.7 to 65.0 fps there.
 *
 * So `bench`, `video`, `eval`, and `sharpen` with more than one image, run themselves again in a child process with
 * {@link GLIBC_MALLOC_TUNABLES} when the C library is glibc and `GLIBC_TUNABLES` is not set;
 * `SHARPEN_KD_MALLOC_TUNING=off` turns it off. A one-image `sharpen` does not (its one frame faults its memory in
 * anyway, and a second Node start would cost more than it saves), nor do `train` and `distill` (their steps run in
 * the wasm backend's one memory; their runs are stopped by signals sent to every process of the command line).
 */
import { spawn } from 'node:child_process';

/** The thresholds: nothing under 256 MiB is mmap'd on its own, and the heap is trimmed only past 1 GiB free. */
export const GLIBC_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824';

/** The commands that run long enough for the tuning to pay (and `sharpen`, when it has several images). */
export const TUNED_COMMANDS: ReadonlySet<string> = new Set(['bench', 'video', 'eval']);

/** @internal Whether this process should run itself again with the tunables (pure: the caller supplies the facts). */
export function wantsMallocTuning(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, glibc: boolean): boolean {
  return platform === 'linux' && glibc && env.GLIBC_TUNABLES === undefined && env.SHARPEN_KD_MALLOC_TUNING !== 'off';
}

function isGlibc(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return typeof report?.header?.glibcVersionRuntime === 'string';
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs this CLI invocation again in a child process with {@link GLIBC_MALLOC_TUNABLES} and exits with its exit code
 * (or its signal) when {@link wantsMallocTuning}; returns false at once otherwise. The child shares stdout and stderr
 * but has a process group of its own, so that every SIGINT, SIGTERM and SIGHUP reaches it exactly once, passed on by
 * this process: a Ctrl-C in the terminal, a `kill` of this process, or one press after another (the second forces).
 */
export async function rerunWithMallocTuning(): Promise<boolean> {
  if (process.platform !== 'linux' || !wantsMallocTuning(process.env, process.platform, isGlibc())) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  for (const s of FORWARDED) process.off(s, forward);
  if (signal) process.kill(process.pid, signal);
  process.exit(code ?? 1);
}
