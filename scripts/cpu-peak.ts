/**
 * This CPU's theoretical float32 peak for the benchmark scripts: physical cores × GHz × FLOPs per cycle per core,
 * read from `lscpu` (else /proc/cpuinfo), with every assumption spelled out in `how`.
 *
 * FLOPs per cycle per core = FMA pipes × float32 lanes × 2 (an FMA is a multiply and an add): 2 × 16 × 2 = 64 with
 * AVX-512 (two 512-bit FMA pipes: most Xeon Scalable; some have one, and AMD Zen 4 runs AVX-512 on two 256-bit pipes,
 * so 32 there), 2 × 8 × 2 = 32 with AVX2 + FMA (Intel Haswell and later, AMD Zen 2 and 3; Zen 1's pipes are 128-bit:
 * 16, pass `--flops-per-cycle 16`), 4 × 2 = 8 with SSE only. The clock is lscpu's "CPU max MHz" when it has one, else the current "CPU MHz" (in a VM
 * that is usually the nominal or TSC frequency: turbo can exceed it, so a measured rate slightly over "peak" means
 * the clock was higher). Override either with `--ghz` / `--flops-per-cycle`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

/** What {@link cpuPeak} found. */
export interface CpuPeak {
  model: string;
  /** Physical cores (vCPUs / threads per core). */
  cores: number;
  vcpus: number;
  ghz: number;
  flopsPerCycle: number;
  /** GFLOP/s of all physical cores. */
  gflops: number;
  /** How it was computed, for the report. */
  how: string;
}

function field(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}\\s*:\\s*(.+)$`, 'mi').exec(text);
  return m?.[1].trim();
}

/** The theoretical fp32 peak of this machine (Linux; elsewhere from `os.cpus()` with AVX2 assumed). */
export function cpuPeak(over: { ghz?: number; flopsPerCycle?: number } = {}): CpuPeak {
  const ls = spawnSync('lscpu', { encoding: 'utf8' });
  const text = ls.status === 0 ? ls.stdout : '';
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = new Set((field(text, 'Flags') ?? field(cpuinfo, 'flags') ?? '').split(/\s+/));
  const model = field(text, 'Model name') ?? field(cpuinfo, 'model name') ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const vcpus = os.availableParallelism();
  const tpc = Number(field(text, 'Thread\\(s\\) per core') ?? 1) || 1;
  const cores = Math.max(1, Math.round(vcpus / tpc));
  const maxMhz = Number(field(text, 'CPU max MHz'));
  const curMhz = Number(field(text, 'CPU MHz') ?? field(cpuinfo, 'cpu MHz'));
  const osMhz = os.cpus()[0]?.speed ?? 0;
  const [mhz, clockFrom] =
    over.ghz !== undefined ? [over.ghz * 1000, '--ghz'] : maxMhz > 0 ? [maxMhz, 'lscpu "CPU max MHz"'] : curMhz > 0 ? [curMhz, 'lscpu / /proc/cpuinfo "CPU MHz" (no max given: nominal clock)'] : [osMhz, 'os.cpus() speed'];
  let fpc: number;
  let simd: string;
  if (over.flopsPerCycle !== undefined) [fpc, simd] = [over.flopsPerCycle, '--flops-per-cycle'];
  else if (flags.has('avx512f')) [fpc, simd] = [64, 'AVX-512F: 2 FMA pipes × 16 fp32 lanes × 2'];
  else if (flags.has('avx2') && flags.has('fma')) [fpc, simd] = [32, 'AVX2 + FMA: 2 FMA pipes × 8 fp32 lanes × 2'];
  else if (flags.has('avx')) [fpc, simd] = [16, 'AVX without FMA: 8 lanes × (1 mul + 1 add)'];
  else if (flags.size > 1) [fpc, simd] = [8, 'SSE: 4 lanes × (1 mul + 1 add)'];
  else [fpc, simd] = [32, 'unknown flags, AVX2 + FMA assumed'];
  const ghz = mhz / 1000;
  const gflops = cores * ghz * fpc;
  const how = `${cores} physical core(s) (${vcpus} vCPUs / ${tpc} thread(s) per core) × ${ghz.toFixed(3)} GHz (${clockFrom}) × ${fpc} FLOPs/cycle (${simd}) = ${gflops.toFixed(1)} GFLOP/s`;
  return { model, cores, vcpus, ghz, flopsPerCycle: fpc, gflops, how };
}
