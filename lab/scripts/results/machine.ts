/** Machine description for the results page: CPU, cores, Node, engine versions, load average. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** 1-minute load average above which frame rates are not publishable (2-core machine: training runs push it to ~5). */
export const LOAD_WARN = 1.5;

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  /** Versions of the engines the numbers come from. */
  versions: Record<string, string | null>;
  /** GLIBC_TUNABLES of the process that measured (the CLI's malloc thresholds, src/cli/malloc-tuning.ts), if set. */
  glibcTunables: string | null;
  /** os.loadavg() at start and end: [1, 5, 15] minutes. */
  loadStart: number[];
  loadEnd?: number[];
}

function pkgVersion(root: string, pkg: string): string | null {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'node_modules', ...pkg.split('/'), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** What the machine is, now. */
export function machineInfo(root: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    versions: Object.fromEntries(
      ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-node', 'sharp'].map((p) => [p, pkgVersion(root, p)]),
    ),
    glibcTunables: process.env.GLIBC_TUNABLES ?? null,
    loadStart: os.loadavg(),
  };
}

/** The current 1-minute load average. */
export function load1(): number {
  return os.loadavg()[0];
}

/**
 * Cores' worth of CPU time other processes may take while frames are timed before the frame rates are not
 * publishable. The load average cannot tell: a 2-thread measurement on 2 cores makes it ~2 by itself.
 */
export const OTHERS_WARN = 0.25;

/** The machine's busy CPU seconds (Linux `/proc/stat`: user, nice, system, irq, softirq, steal) and this process's own. */
export interface CpuMark {
  busy: number;
  own: number;
  at: number;
}

/** A reading to measure from, or undefined where `/proc/stat` is not there. */
export function cpuMark(): CpuMark | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const ticks = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0); // USER_HZ = 100 on Linux
    const u = process.cpuUsage();
    return { busy: ticks / 100, own: (u.user + u.system) / 1e6, at: performance.now() };
  } catch {
    return undefined;
  }
}

/**
 * Cores' worth of CPU other processes used since `mark` (steal time included: another VM's use of this host).
 * `/proc/stat` counts in 10 ms ticks, so over a short window the figure is rounded; it is kept within
 * 0 … the machine's core count.
 */
export function otherCores(mark: CpuMark | undefined): number | undefined {
  const now = cpuMark();
  if (!mark || !now || now.at <= mark.at) return undefined;
  const others = (now.busy - mark.busy - (now.own - mark.own)) / ((now.at - mark.at) / 1000);
  return Math.min(os.cpus().length, Math.max(0, others));
}

/** `; others X cores` for a timing's note, with the not-publishable flag over {@link OTHERS_WARN}. */
export function othersNote(others: number | undefined): string {
  if (others === undefined) return '';
  return `; other processes ${others.toFixed(2)} cores${others > OTHERS_WARN ? ' (machine busy: not publishable)' : ''}`;
}

/** A warning line when other processes took more than {@link OTHERS_WARN} cores during any timing, else undefined. */
export function othersWarning(others: Array<number | undefined>): string | undefined {
  const worst = Math.max(0, ...others.filter((v): v is number => v !== undefined));
  if (worst <= OTHERS_WARN) return undefined;
  return `other processes took up to ${worst.toFixed(2)} cores while frames were timed (over ${OTHERS_WARN}): those frame rates are NOT publishable (quality numbers are unaffected)`;
}

/** A warning line when the machine is busy, else undefined. */
export function loadWarning(load: number[]): string | undefined {
  if (load[0] <= LOAD_WARN) return undefined;
  return `1-min load average ${load[0].toFixed(2)} > ${LOAD_WARN} on ${os.cpus().length} cores: other processes compete for the CPU, frame rates are NOT publishable (quality numbers are unaffected)`;
}
