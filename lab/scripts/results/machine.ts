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

/** A warning line when the machine is busy, else undefined. */
export function loadWarning(load: number[]): string | undefined {
  if (load[0] <= LOAD_WARN) return undefined;
  return `1-min load average ${load[0].toFixed(2)} > ${LOAD_WARN} on ${os.cpus().length} cores: other processes compete for the CPU, frame rates are NOT publishable (quality numbers are unaffected)`;
}
